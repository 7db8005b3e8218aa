/**
 * The catalog page on a host name of its own (`catalog.hostName`) in a real browser: the small-team stack
 * with the page on `images.cat.test` beside the registry on `registry.cat.test` (one proxy, one
 * self-signed certificate naming both), Debian's headless Chromium loading the page over TLS from its own
 * origin, signing in and listing the pushed image through the registry's host with CORS; the page's
 * host serves no Registry API, and the registry's host answers the page's preflight. Names map to
 * loopback in Chromium only (`--host-resolver-rules`); only the stack's own keys are trusted.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildImageTar, deploy, prepare, proxyRequest, RegistryClient, removeByPrefix, render, Rendered, servedCertificate, waitHealthy } from "./harness";
import { Chromium, CHROMIUM } from "./chromium";
import { signIn, spkiHash, table, visible } from "./catalog-page";

// Not `rk-am-`: alertmanager.test.ts clears that prefix when it starts, and test files run in parallel.
const PREFIX = "rk-amui";
const HOST = "registry.cat.test";
const PAGE_HOST = "images.cat.test";
const HTTPS = 34501;
const REGISTRY = `${HOST}:${HTTPS}`;
const PAGE_ORIGIN = `https://${PAGE_HOST}:${HTTPS}`;
const ARTIFACTS = path.join(__dirname, "artifacts");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-amui-"));
const stateFile = path.join(work, "state.json");
let rendered: Rendered;
let password: string;
let browser: Chromium;
let digest: string;

function stackFile(): string {
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": { image: "registry-kit-test/registry:3" },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 34502 },
            "registry-kit:monitoring": { enabled: false },
            "registry-kit:catalog": { enabled: true, hostName: PAGE_HOST },
        },
    };
    const file = path.join(work, `Pulumi.cat-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

const request = (hostname: string, method: string, pathname: string, headers: Record<string, string> = {}) =>
    proxyRequest({ port: HTTPS, hostname, ca: rendered.outputs.caCertificate, user: "admin", password }, method, pathname, undefined, headers);

describe("the catalog page on its own host name", () => {
    beforeAll(async () => {
        if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
        prepare(PREFIX, ["registry3", "nginx"]);
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "cat");
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`]);
        password = rendered.outputs.adminPassword;
        const certDir = path.join(work, "certs");
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        const hostsFile = path.join(work, "hosts");
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        const client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });
        digest = client.push(buildImageTar(work, PREFIX, [100_000]), "team/app:1.0");
        const leafPem = servedCertificate(HTTPS, PAGE_HOST).leaf.toString();
        browser = Chromium.launch(path.join(work, "chromium"), [
            `--host-resolver-rules=MAP ${HOST} 127.0.0.1, MAP ${PAGE_HOST} 127.0.0.1`,
            `--ignore-certificate-errors-spki-list=${[rendered.outputs.caCertificate, leafPem].map(spkiHash).join(",")}`,
        ]);
    }, 600_000);

    afterAll(async () => {
        await browser?.close();
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("serves both names with one certificate that names both, and no Registry API on the page's name", async () => {
        const leaf = servedCertificate(HTTPS, PAGE_HOST).leaf;
        expect(leaf.subjectAltName).toBe(`DNS:${HOST}, DNS:${PAGE_HOST}`);
        const onPage = await request(PAGE_HOST, "GET", "/v2/");
        expect(onPage.status).toBe(404);
        expect((await request(HOST, "GET", "/v2/")).status).toBe(200);
        // The page is not on the registry's name.
        expect((await request(HOST, "GET", "/ui/")).status).toBe(404);
        // The registry's host answers the page's preflight with its origin.
        const preflight = await request(HOST, "OPTIONS", "/v2/_catalog", {
            Origin: PAGE_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-registry-kit-catalog",
        });
        expect(preflight.status).toBe(204);
        expect(preflight.headers["access-control-allow-origin"]).toBe(PAGE_ORIGIN);
        const other = await request(HOST, "OPTIONS", "/v2/_catalog", { Origin: "https://elsewhere.cat.test", "Access-Control-Request-Method": "GET" });
        expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    });

    it("Chromium loads the page from its own origin over TLS, signs in and lists the image through the registry's host", async () => {
        const page = await browser.newPage();
        await page.goto(`${PAGE_ORIGIN}/`);
        await page.until("document.body.dataset.ready === 'true'");
        expect(await page.eval("location.origin")).toBe(PAGE_ORIGIN);
        expect(await page.eval(visible)).toEqual({ signIn: true, catalog: false });
        await signIn(page, "admin", password);
        await page.until("document.querySelectorAll('#repositories [data-repository]').length === 1", 60_000);
        expect(await page.eval(visible)).toEqual({ signIn: false, catalog: true });
        const shown = await table(page);
        expect(shown["team/app"]["1.0"].digest).toBe(digest);
        expect(shown["team/app"]["1.0"].pull).toBe(`docker pull ${REGISTRY}/team/app:1.0`);
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot(path.join(ARTIFACTS, "catalog-host.png"));
        expect(fs.statSync(path.join(ARTIFACTS, "catalog-host.png")).size).toBeGreaterThan(5_000);
    }, 120_000);

    it("plans no change on a second pulumi up", async () => {
        const second = render(stackFile(), path.join(work, "render-2"), stateFile, "cat");
        const result = await deploy(second, rendered);
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(result.replaced).toEqual([]);
    }, 120_000);
});
