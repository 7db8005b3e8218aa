/**
 * ACME for Harbor, for real: Harbor's proxy cannot run here, so the nginx stand-in runs Harbor's shape of it
 * (common/config/nginx mounted at /etc/nginx, data_volume/secret/cert at /etc/cert, `include
 * conf.d/*.server.conf` before a port-8080 catch-all that only redirects, TLS on 8443). The files the
 * HarborInstaller command sends on stdin come from the offline render of a harbor stack in tls.mode acme;
 * templates/harbor-acme.sh (the part of the lifecycle that runs on Harbor's host) writes the challenge
 * server, then runs the certbot stand-in against Pebble over HTTP-01 through that nginx, installs the
 * certificate where Harbor's nginx reads it and reloads it through the shared PID namespace (no Docker
 * socket). Pebble validates on port 8080: the container port Harbor's host port 80 is published to.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseHarborStdin } from "../../renderers/harbor-scripts";
import { docker, eventually, prepare, removeByPrefix, render, Rendered, run, servedCertificate, startSideService, verifyChain } from "./harness";

const PREFIX = "rk-hacme";
const NET = `${PREFIX}-net`;
const HOST = "harbor.hacme.test";
const HTTPS = 63443;
const HTTP = 63080;
const PEBBLE_MGMT = 63015;
const NGINX = `${PREFIX}-nginx`;
const CERTBOT = `${PREFIX}-certbot`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-hacme-"));
const installDir = path.join(work, "install");
const dataVolume = path.join(work, "data");
const harborDir = path.join(installDir, "harbor");
const nginxDir = path.join(harborDir, "common", "config", "nginx");
const certDir = path.join(dataVolume, "secret", "cert");
const tlsDir = path.join(installDir, "tls");
const acmeDir = path.join(installDir, "acme");
let files: Record<string, string>;
let pebbleRoot: string;

/** Harbor 2.x's nginx.https.conf, reduced to what ACME touches (goharbor/harbor make/photon/prepare/templates/nginx). */
const HARBOR_NGINX_CONF = `worker_processes 1;
events { worker_connections 64; }
http {
    include /etc/nginx/conf.d/*.server.conf;
    server {
        listen 8080;
        return 308 https://$host:${HTTPS}$request_uri;
    }
    server {
        listen 8443 ssl;
        ssl_certificate /etc/cert/server.crt;
        ssl_certificate_key /etc/cert/server.key;
        include /etc/nginx/conf.d/harbor.https.*.conf;
        location / { return 200 "harbor\\n"; }
    }
}
`;

function stackFile(pebbleCa: string): string {
    const file = path.join(work, "Pulumi.hacme.yaml");
    const config = {
        "registry-kit:topology": "harbor",
        "registry-kit:hostname": HOST,
        "registry-kit:docker": { namePrefix: PREFIX },
        "registry-kit:monitoring": { enabled: false },
        "registry-kit:tls": { mode: "acme", acme: { directory: "https://pebble:14000/dir", caBundle: pebbleCa, image: "registry-kit-test/certbot:2" } },
        "registry-kit:harbor": { installerSha256: "ab".repeat(32), installDir, dataVolume, httpPort: HTTP, httpsPort: HTTPS, adminPassword: "E2e-Admin-Pass1" },
    };
    fs.writeFileSync(file, stringify({ config }));
    return file;
}

/** The files HarborInstaller's command carries on stdin (`<name> <base64>` lines). */
function stdinFiles(r: Rendered): Record<string, string> {
    const cmd = r.resources.find((x) => x.type === "command:local:Command");
    if (!cmd) throw new Error("no local command rendered");
    return parseHarborStdin(cmd.inputs.stdin);
}

/** templates/harbor-acme.sh as the lifecycle runs it, with the test's containers, network and resolver. */
function harborAcme(action: string) {
    return run("bash", [path.join(acmeDir, "bin", "harbor-acme.sh"), action], { allowFail: true, timeoutMs: 180_000, input: "" });
}
const acmeEnv = {
    RK_ACME_DIR: acmeDir,
    RK_HARBOR_DIR: harborDir,
    RK_DATA_VOLUME: dataVolume,
    RK_TLS_DIR: tlsDir,
    RK_ACME_IMAGE: "registry-kit-test/certbot:2",
    RK_ACME_CONTAINER: CERTBOT,
    RK_PROXY_CONTAINER: NGINX,
    RK_ACME_DOCKER_ARGS: `--network ${NET} --dns 127.0.0.1`,
};

/** The leaf certificate nginx serves on the HTTPS port, and the rest of the chain. */
const served = () => servedCertificate(HTTPS, HOST);

/** `curl` of the HTTP port with a Host header: status and Location. */
function httpGet(hostHeader: string, pathname: string): { status: string; location: string } {
    const r = run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "-H", `Host: ${hostHeader}`, `http://127.0.0.1:${HTTP}${pathname}`]);
    const [status, location = ""] = r.stdout.split(" ");
    return { status, location };
}

describe("ACME for Harbor's own proxy (Pebble, certbot, Harbor's nginx shape)", () => {
    let bootstrapSerial = "";
    let startOut = "";

    beforeAll(async () => {
        prepare(PREFIX, ["nginx", "certbot", "pebble"]);
        const pebbleCa = docker("run", "--rm", "--dns", "127.0.0.1", "--entrypoint", "cat", "registry-kit-test/pebble:2", "/etc/pebble/ca.pem") + "\n";
        const pebbleConfig = JSON.parse(fs.readFileSync(path.join(__dirname, "images", "pebble", "pebble-config.json"), "utf8"));
        pebbleConfig.pebble.httpPort = 8080;
        startSideService(NET, {
            name: `${PREFIX}-pebble`,
            alias: "pebble",
            image: "registry-kit-test/pebble:2",
            env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
            publish: [`127.0.0.1:${PEBBLE_MGMT}:15000`],
            args: ["-config", "/etc/pebble/harbor-config.json", "-dnsserver", "127.0.0.11:53"],
            files: [{ path: "/etc/pebble/harbor-config.json", content: JSON.stringify(pebbleConfig) }],
        });
        const caFile = path.join(work, "pebble-ca.pem");
        fs.writeFileSync(caFile, pebbleCa);
        pebbleRoot = await eventually("Pebble's root", () => {
            const r = run("curl", ["-sSf", "--cacert", caFile, `https://127.0.0.1:${PEBBLE_MGMT}/roots/0`], { allowFail: true });
            return r.code === 0 && r.stdout.includes("BEGIN CERTIFICATE") ? r.stdout : undefined;
        });

        files = stdinFiles(render(stackFile(pebbleCa), path.join(work, "render"), path.join(work, "state.json"), "hacme", ["harbor", "tls"]));
        // What the lifecycle's install_files and Harbor's prepare leave: the scripts and settings under installDir/acme,
        // the bootstrap certificate in installDir/tls and (prepare's copy, 0600) in data_volume/secret/cert, and
        // prepare's nginx.conf in common/config/nginx.
        fs.mkdirSync(path.join(acmeDir, "bin"), { recursive: true });
        for (const f of ["certbot-acme.sh", "harbor-acme-deploy.sh", "harbor-acme.sh"])
            fs.writeFileSync(path.join(acmeDir, "bin", f), files[f], { mode: 0o755 });
        fs.writeFileSync(path.join(acmeDir, "bin", "acme-ca.pem"), files["acme-ca.pem"]);
        fs.writeFileSync(path.join(acmeDir, "acme.env"), files["acme.env"]);
        fs.writeFileSync(path.join(acmeDir, "acme.server.conf"), files["acme.server.conf"]);
        for (const dir of [tlsDir, certDir]) {
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "server.crt"), files["server.crt"], { mode: 0o600 });
            fs.writeFileSync(path.join(dir, "server.key"), files["server.key"], { mode: 0o600 });
        }
        fs.mkdirSync(path.join(nginxDir, "conf.d"), { recursive: true });
        fs.writeFileSync(path.join(nginxDir, "nginx.conf"), HARBOR_NGINX_CONF);

        Object.assign(process.env, acmeEnv);
        const configured = harborAcme("configure");
        expect(configured.stderr).toBe("");
        expect(configured.code).toBe(0);

        // Harbor's proxy: container `nginx` in Harbor's compose project; here the nginx stand-in with Harbor's mounts and ports.
        docker(
            "run",
            "-d",
            "--name",
            NGINX,
            "--network",
            NET,
            "--network-alias",
            HOST,
            "--dns",
            "127.0.0.1",
            "-v",
            `${nginxDir}:/etc/nginx`,
            "-v",
            `${certDir}:/etc/cert`,
            "-p",
            `127.0.0.1:${HTTP}:8080`,
            "-p",
            `127.0.0.1:${HTTPS}:8443`,
            "registry-kit-test/nginx:1-njs",
        );
        bootstrapSerial = (await eventually("nginx to serve the bootstrap certificate", () => served())).leaf.serialNumber;
        const started = harborAcme("start");
        startOut = started.stdout + started.stderr;
        expect(started.code, startOut).toBe(0);
        // The renewal container checks the certificate once at its start (certbot holds a lock meanwhile), then installs it:
        // nothing to do, the synchronous run above did.
        await eventually("the renewal container to reach its loop", () =>
            run("docker", ["logs", CERTBOT], { allowFail: true }).stdout.includes("Harbor already serves this certificate") ? true : undefined,
        );
    }, 240_000);

    afterAll(() => {
        for (const k of Object.keys(acmeEnv)) delete process.env[k];
        removeByPrefix(`${PREFIX}-`);
        // certbot ran as root in its container: its files are removed with the rest.
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("writes the challenge server after prepare: it serves the webroot and redirects everything else as Harbor's port 80 does", () => {
        expect(fs.readFileSync(path.join(nginxDir, "conf.d", "registry-kit-acme.server.conf"), "utf8")).toBe(files["acme.server.conf"]);
        fs.mkdirSync(path.join(nginxDir, "registry-kit-acme", ".well-known", "acme-challenge"), { recursive: true });
        fs.writeFileSync(path.join(nginxDir, "registry-kit-acme", ".well-known", "acme-challenge", "probe"), "probe\n");
        expect(run("curl", ["-sSf", "-H", `Host: ${HOST}`, `http://127.0.0.1:${HTTP}/.well-known/acme-challenge/probe`]).stdout).toBe("probe\n");
        expect(httpGet(HOST, "/v2/")).toEqual({ status: "308", location: `https://${HOST}:${HTTPS}/v2/` });
        // Included before Harbor's catch-all, this server is nginx's default for port 8080: other names keep Harbor's redirect.
        expect(httpGet("other.hacme.test", "/x")).toEqual({ status: "308", location: `https://other.hacme.test:${HTTPS}/x` });
    });

    it("issues over HTTP-01 through Harbor's nginx, installs the certificate where Harbor reads it, and serves it after a reload", () => {
        const s = served();
        expect(s.leaf.serialNumber).not.toBe(bootstrapSerial);
        expect(s.leaf.issuer).toContain("Pebble Intermediate");
        expect(s.leaf.subjectAltName).toBe(`DNS:${HOST}`);
        expect(verifyChain(work, pebbleRoot, s)).toContain(": OK");
        expect(startOut).toContain("installed the certificate and reloaded Harbor's nginx");
        // In both places, in place: prepare's 0600 kept; installDir/tls marked, so a later prepare copies this one.
        for (const dir of [certDir, tlsDir]) {
            expect(fs.readFileSync(path.join(dir, "server.crt"), "utf8")).toContain(s.leaf.toString().trim().split("\n")[1]);
            expect(fs.statSync(path.join(dir, "server.key")).mode & 0o777).toBe(0o600);
        }
        expect(fs.readFileSync(path.join(tlsDir, ".acme"), "utf8")).toBe("registry-kit\n");
        // No Docker socket in the renewal container; it shares nginx's PID namespace instead.
        const mounts = docker("inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", CERTBOT);
        expect(mounts).not.toContain("docker.sock");
        expect(docker("inspect", "-f", "{{.HostConfig.PidMode}} {{.HostConfig.RestartPolicy.Name}}", CERTBOT)).toMatch(/^container:\S+ unless-stopped$/);
    });

    it("renews in the renewal container and serves the new certificate after a graceful reload", async () => {
        const before = served().leaf.serialNumber;
        const renew = run(
            "docker",
            [
                "exec",
                CERTBOT,
                "sh",
                "-c",
                'certbot renew --force-renewal --no-random-sleep-on-renew --cert-name "$RK_CERT_NAME" --deploy-hook "$RK_DEPLOY_HOOK"',
            ],
            { timeoutMs: 120_000 },
        );
        expect(renew.stdout + renew.stderr).toContain("installed the certificate and reloaded Harbor's nginx");
        const after = await eventually("the renewed certificate to be served", () => {
            const serial = served().leaf.serialNumber;
            return serial !== before ? serial : undefined;
        });
        expect(after).not.toBe(before);
        expect(docker("inspect", "-f", "{{.State.Running}}", NGINX)).toBe("true");
    }, 150_000);

    it("a second start (the next pulumi up) issues nothing and leaves the served certificate alone", () => {
        const serial = served().leaf.serialNumber;
        const again = harborAcme("start");
        expect(again.code, again.stdout + again.stderr).toBe(0);
        expect(again.stdout).toContain("Certificate not yet due for renewal");
        expect(again.stdout).toContain("Harbor already serves this certificate");
        expect(served().leaf.serialNumber).toBe(serial);
    }, 150_000);
});
