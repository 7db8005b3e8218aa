/**
 * Authentication cost: authenticated `GET /v2/` requests per second, in one run, four ways:
 *   direct    to the registry container (http://registry:5000) with the user's own password (under its
 *             verification name), the user's bcrypt checked on every request;
 *   no-cache  through the proxy with `auth.verdictCacheSeconds: 0` (the user's bcrypt at the registry per
 *             request, then the proxy's own cost-4 entry);
 *   cache     through the proxy as deployed (`auth.verdictCacheSeconds: 60`);
 *   anonymous through the proxy without any auth to a registry without auth (the limit).
 * The small-team stack is rendered and deployed as the e2e tests do (test/e2e/harness.ts), with the prefix
 * rk-authb and loopback ports 32600-32609; the load comes from a node client container on the stack's
 * network (keep-alive connections over TLS, verified against the stack's CA). The proxy's variants are
 * nginx.conf texts from the renderer, copied in and reloaded between trials; the anonymous registry is a
 * second container of the same image with the auth section left out of its config. Trials rotate the
 * variants; it prints medians and ratios and the CPU seconds of the registry and proxy processes.
 *
 *   npx tsx bench/auth-rps.ts                       # 3 repetitions, 4 connections × 100 requests
 *   npx tsx bench/auth-rps.ts --reps 5 --requests 200 --connections 8
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { REGISTRY_VERIFY_SUFFIX } from "../primitives/registry";
import { renderNginxConf } from "../renderers/nginx-conf";
import { deploy, docker, prepare, removeByPrefix, render, run, startClientContainer, waitHealthy } from "../test/e2e/harness";

const PREFIX = "rk-authb";
const HOST = "registry.authb.test";
const NETWORK = `${PREFIX}-net`;
const PROXY = `${PREFIX}-proxy`;
const REGISTRY = `${PREFIX}-registry`;
const ANON = `${PREFIX}-anonymous`;
const CLIENT = `${PREFIX}-client`;
const USER = { name: "bench", password: "bench-password-" + crypto.randomBytes(8).toString("hex") };

const { values: opts } = parseArgs({
    options: {
        reps: { type: "string", default: "3" },
        requests: { type: "string", default: "100" },
        connections: { type: "string", default: "4" },
    },
});
const REPS = Number(opts.reps);
const REQUESTS = Number(opts.requests);
const CONNECTIONS = Number(opts.connections);

/** The load: `connections` keep-alive connections, `requests` sequential GETs each; prints JSON. */
const LOAD = `
const https = require("https"), http = require("http"), fs = require("fs");
const [url, auth, n, c] = process.argv.slice(1);
const u = new URL(url);
const mod = u.protocol === "https:" ? https : http;
const ca = u.protocol === "https:" ? fs.readFileSync("/bench/ca.crt") : undefined;
const codes = {};
function one(agent) {
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { agent, ca, headers: auth ? { Authorization: auth } : {} }, (res) => {
      res.resume();
      res.on("end", () => { codes[res.statusCode] = (codes[res.statusCode] || 0) + 1; resolve(); });
    });
    req.on("error", reject);
    req.end();
  });
}
async function conn() {
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < Number(n); i++) await one(agent);
  agent.destroy();
}
const t0 = process.hrtime.bigint();
Promise.all(Array.from({ length: Number(c) }, conn)).then(() => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds, codes }));
});
`;

/** utime+stime of every process in a container, in seconds (clock ticks of 100 Hz). */
function cpuSeconds(container: string): number {
    const out = run("docker", ["exec", container, "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null"], { allowFail: true }).stdout;
    let ticks = 0;
    for (const line of out.split("\n")) {
        const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
        if (fields.length > 13) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / 100;
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-authb-"));
    prepare(PREFIX, ["registry", "nginx", "node"]);
    const stack = (cacheSeconds: number) => {
        const file = path.join(work, `Pulumi.authb-${cacheSeconds}.yaml`);
        fs.writeFileSync(
            file,
            stringify({
                config: {
                    "registry-kit:hostname": HOST,
                    "registry-kit:docker": { namePrefix: PREFIX },
                    "registry-kit:registry": { image: "registry-kit-test/registry:2" },
                    "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: 32600, httpPort: 32601 },
                    "registry-kit:monitoring": { enabled: false },
                    "registry-kit:auth": { users: [USER], verdictCacheSeconds: cacheSeconds },
                },
            }),
        );
        return file;
    };
    const state = path.join(work, "state.json");
    try {
        const rendered = render(stack(60), path.join(work, "render-cache"), state, "authb", ["registry-kit:auth"]);
        const uncached = render(stack(0), path.join(work, "render-nocache"), state, "authb", ["registry-kit:auth"]);
        await deploy(rendered);
        await waitHealthy([REGISTRY, PROXY]);
        const confOf = (dir: string) => fs.readFileSync(path.join(dir, "files", PROXY, "etc/nginx/nginx.conf"), "utf8");
        const spec = rendered.resources.find((r) => r.type === "docker:index/container:Container" && r.name === REGISTRY)!.inputs;
        const configUpload = (spec.uploads as { file: string; content: string }[]).find((u) => u.file.endsWith("/config.yml"))!;
        const registryConfig = configUpload.content;
        // The anonymous limit: the same registry image and config without its auth section, behind a proxy without auth.
        const anonConfig = registryConfig.replace(/^auth:\n(?: {2}.*\n)+/m, "");
        if (anonConfig === registryConfig) throw new Error("the registry config has no auth section to leave out");
        docker("create", "--name", ANON, "--network", NETWORK, "--network-alias", "anonymous", "--dns", "127.0.0.1", spec.image, ...(spec.command ?? []));
        const cfg = path.join(work, "anon.yml");
        fs.writeFileSync(cfg, anonConfig);
        docker("cp", cfg, `${ANON}:${configUpload.file}`);
        docker("start", ANON);
        const variants: Record<string, { conf: string; url: string; auth: string }> = {};
        const basic = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString("base64")}`;
        const proxyUrl = `https://${HOST}/v2/`;
        variants.cache = { conf: confOf(rendered.dir), url: proxyUrl, auth: basic };
        variants["no-cache"] = { conf: confOf(uncached.dir), url: proxyUrl, auth: basic };
        variants.anonymous = {
            conf: renderNginxConf({ hostname: HOST, upstream: "anonymous:5000", publicHttpsPort: 32600, allowCidrs: [], hstsMaxAge: 31536000 }),
            url: proxyUrl,
            auth: "",
        };
        // At the registry the user's own password is under its verification name (the proxy sends a derived one).
        const own = `Basic ${Buffer.from(`${USER.name}${REGISTRY_VERIFY_SUFFIX}:${USER.password}`).toString("base64")}`;
        variants.direct = { conf: confOf(rendered.dir), url: "http://registry:5000/v2/", auth: own };

        const proxyIp = docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, PROXY);
        startClientContainer({ name: CLIENT, network: NETWORK, image: "registry-kit-test/node:22", proxyHost: HOST, proxyIp });
        docker("exec", CLIENT, "mkdir", "-p", "/bench");
        const ca = path.join(work, "ca.crt");
        fs.writeFileSync(ca, rendered.outputs.caCertificate);
        docker("cp", ca, `${CLIENT}:/bench/ca.crt`);

        const loaded = path.join(work, "nginx.conf");
        const results: Record<string, { rps: number[]; registryCpu: number[]; proxyCpu: number[]; anonCpu: number[] }> = {};
        const names = Object.keys(variants);
        for (let rep = -1; rep < REPS; rep++) {
            // Rotate the order each repetition; rep -1 is a warm-up, not counted.
            const order = names.map((_, i) => names[(i + Math.max(rep, 0)) % names.length]);
            for (const name of order) {
                const v = variants[name];
                fs.writeFileSync(loaded, v.conf);
                docker("cp", loaded, `${PROXY}:/etc/nginx/nginx.conf`);
                docker("exec", PROXY, "nginx", "-s", "reload");
                // Reload: old workers finish, new ones start with an empty verdict cache in memory (the files stay).
                await new Promise((r) => setTimeout(r, 1500));
                docker("exec", PROXY, "sh", "-c", "rm -rf /var/cache/nginx/registry-kit-verdicts/*");
                const cpu0 = [cpuSeconds(REGISTRY), cpuSeconds(PROXY), cpuSeconds(ANON)];
                const out = docker("exec", CLIENT, "node", "-e", LOAD, v.url, v.auth, String(REQUESTS), String(CONNECTIONS));
                const cpu1 = [cpuSeconds(REGISTRY), cpuSeconds(PROXY), cpuSeconds(ANON)];
                const { seconds, codes } = JSON.parse(out) as { seconds: number; codes: Record<string, number> };
                if (codes["200"] !== REQUESTS * CONNECTIONS) throw new Error(`${name}: not every request answered 200: ${JSON.stringify(codes)}`);
                const rps = (REQUESTS * CONNECTIONS) / seconds;
                console.log(`${rep < 0 ? "warm-up" : `rep ${rep + 1}`} ${name.padEnd(9)} ${rps.toFixed(1).padStart(8)} req/s  (${seconds.toFixed(2)} s)`);
                if (rep < 0) continue;
                const r = (results[name] ??= { rps: [], registryCpu: [], proxyCpu: [], anonCpu: [] });
                r.rps.push(rps);
                r.registryCpu.push(cpu1[0] - cpu0[0]);
                r.proxyCpu.push(cpu1[1] - cpu0[1]);
                r.anonCpu.push(cpu1[2] - cpu0[2]);
            }
        }
        const base = median(results.cache.rps);
        const lines = [
            `${REQUESTS * CONNECTIONS} authenticated GET /v2/ per trial (${CONNECTIONS} keep-alive connections × ${REQUESTS}), ${REPS} repetitions, medians; ${os.cpus().length} CPUs`,
            "",
            "| variant | req/s (median) | min–max | vs cache | registry CPU s | proxy CPU s | anonymous registry CPU s |",
            "|---|---|---|---|---|---|---|",
            ...names.map((n) => {
                const r = results[n];
                return `| ${n} | ${median(r.rps).toFixed(1)} | ${Math.min(...r.rps).toFixed(1)}–${Math.max(...r.rps).toFixed(1)} | ${(median(r.rps) / base).toFixed(3)}x | ${median(r.registryCpu).toFixed(2)} | ${median(r.proxyCpu).toFixed(2)} | ${median(r.anonCpu).toFixed(2)} |`;
            }),
        ];
        console.log("\n" + lines.join("\n"));
    } finally {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
