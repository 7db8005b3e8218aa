/**
 * The catalog page in a real browser: the small-team stack with the page on (the program's own
 * container specs, stand-in images), images pushed with skopeo, and Debian's headless Chromium loading
 * the page over TLS through the proxy with the stack's hostname mapped to loopback
 * (`--host-resolver-rules`) and only the stack's own certificate accepted (its public key, by hash).
 * Pages from other origins come from loopback HTTP servers in this test.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { buildImageTar, deploy, prepare, proxyRequest, RegistryClient, removeByPrefix, render, Rendered, servedCertificate, waitHealthy } from "./harness";
import { Chromium, CHROMIUM } from "./chromium";
import { signIn, spkiHash, table, visible } from "./catalog-page";

const PREFIX = "rk-ui";
const HOST = "registry.ui.test";
const HTTPS = 27443;
const REGISTRY = `${HOST}:${HTTPS}`;
const PAGE_URL = `https://${REGISTRY}/ui/`;
/** The origin the stack lists in catalog.allowedOrigins, and one it does not. */
const LISTED_PORT = 27501;
const OTHER_PORT = 27502;
const LISTED = `http://127.0.0.1:${LISTED_PORT}`;
const OTHER = `http://127.0.0.1:${OTHER_PORT}`;
const ARTIFACTS = path.join(__dirname, "artifacts");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-ui-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let password: string;
let client: RegistryClient;
let browser: Chromium;
const servers: http.Server[] = [];
const pushed: Record<string, string> = {};

function stackFile(): string {
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": { image: "registry-kit-test/registry:3" },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 27080 },
            "registry-kit:monitoring": {
                image: "registry-kit-test/prometheus:2",
                hostIp: "127.0.0.1",
                port: 27090,
                volumes: { image: "registry-kit-test/node-exporter:1" },
            },
            "registry-kit:auth": { users: [{ name: "reader", password: "reader-password-1" }] },
            "registry-kit:catalog": { enabled: true, delete: true, allowedOrigins: [LISTED] },
        },
    };
    const file = path.join(work, `Pulumi.ui-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

const api = (method: string, pathname: string, body?: Buffer, headers: Record<string, string> = {}) =>
    proxyRequest({ port: HTTPS, hostname: HOST, ca: rendered.outputs.caCertificate, user: "admin", password }, method, pathname, body, headers);

/** A page on its own loopback origin; the test evaluates its fetches there. */
function serveOrigin(port: number): Promise<void> {
    const server = http.createServer((_req, res) => {
        res.writeHead(200, { "Content-Type": "text/html" });
        res.end("<!doctype html><title>elsewhere</title><p>a page hosted elsewhere</p>");
    });
    servers.push(server);
    return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
}

describe("the catalog page in headless Chromium", () => {
    beforeAll(async () => {
        if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
        prepare(PREFIX, ["registry3", "nginx", "prometheus"]);
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "ui", ["registry-kit:auth"]);
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`]);
        password = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });

        // Two images, three tags, and an index of two platforms over two of them.
        const a = buildImageTar(work, PREFIX, [300_000, 20_000]);
        const b = buildImageTar(work, PREFIX, [50_000]);
        pushed["team/app:1.0"] = client.push(a, "team/app:1.0");
        pushed["team/app:latest"] = client.push(a, "team/app:latest");
        pushed["tools/cli:v2"] = client.push(b, "tools/cli:v2");
        pushed["multi/arch:amd64"] = client.push(a, "multi/arch:amd64");
        pushed["multi/arch:arm64"] = client.push(b, "multi/arch:arm64");
        const child = async (tag: string, platform: Record<string, string>) => {
            const r = await api("GET", `/v2/multi/arch/manifests/${tag}`, undefined, { Accept: "application/vnd.docker.distribution.manifest.v2+json" });
            return { mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: pushed[`multi/arch:${tag}`], size: r.body.length, platform };
        };
        const index = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [
                    await child("amd64", { architecture: "amd64", os: "linux" }),
                    await child("arm64", { architecture: "arm64", os: "linux", variant: "v8" }),
                ],
            }),
        );
        const put = await api("PUT", "/v2/multi/arch/manifests/1", index, { "Content-Type": "application/vnd.oci.image.index.v1+json" });
        expect(put.status).toBe(201);
        pushed["multi/arch:1"] = String(put.headers["docker-content-digest"]);

        await serveOrigin(LISTED_PORT);
        await serveOrigin(OTHER_PORT);
        const leafPem = servedCertificate(HTTPS, HOST).leaf.toString();
        browser = Chromium.launch(path.join(work, "chromium"), [
            // The test machine knows the stack's name only here: no /etc/hosts entry, no DNS.
            `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
            // Certificate errors are ignored for the stack's own server key and CA key only.
            `--ignore-certificate-errors-spki-list=${[rendered.outputs.caCertificate, leafPem].map(spkiHash).join(",")}`,
        ]);
    }, 600_000);

    afterAll(async () => {
        await browser?.close();
        for (const s of servers) s.close();
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("plans no change on a second pulumi up with the page on", async () => {
        const second = render(stackFile(), path.join(work, "render-2"), stateFile, "ui", ["registry-kit:auth"]);
        const result = await deploy(second, rendered);
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(result.replaced).toEqual([]);
    }, 120_000);

    it("loads over TLS, signs in, and lists the pushed repositories, tags, digests, sizes, dates, platforms and pull commands", async () => {
        const page = await browser.newPage();
        await page.goto(PAGE_URL);
        await page.until("document.body.dataset.ready === 'true'");
        expect(await page.eval("location.protocol")).toBe("https:");
        expect(await page.eval(visible)).toEqual({ signIn: true, catalog: false });
        await signIn(page, "admin", password);
        await page.until("document.querySelectorAll('#repositories [data-repository]').length === 3", 60_000);
        expect(await page.eval(visible)).toEqual({ signIn: false, catalog: true });
        const shown = await table(page);
        expect(Object.keys(shown).sort()).toEqual(["multi/arch", "team/app", "tools/cli"]);
        expect(Object.keys(shown["team/app"]).sort()).toEqual(["1.0", "latest"]);
        for (const [ref, digest] of Object.entries(pushed)) {
            const [repo, tag] = ref.split(":");
            expect(shown[repo][tag].digest, ref).toBe(digest);
            expect(shown[repo][tag].pull, ref).toBe(`docker pull ${REGISTRY}/${repo}:${tag}`);
        }
        expect(shown["multi/arch"]["1"].platforms).toBe("linux/amd64 linux/arm64/v8");
        expect(shown["team/app"]["1.0"].platforms).toBe("linux/amd64");
        // 300 kB + 20 kB of layers (tarred), config and manifest: the page's sum of the manifest's sizes.
        expect(shown["team/app"]["1.0"].size).toMatch(/^31\d\.\d KiB$/);
        expect(shown["tools/cli"]["v2"].created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot(path.join(ARTIFACTS, "catalog.png"));
        expect(fs.statSync(path.join(ARTIFACTS, "catalog.png")).size).toBeGreaterThan(10_000);

        // The filter narrows to matching repositories and tags.
        await page.eval(`(() => { const f = document.getElementById("filter"); f.value = "cli"; f.dispatchEvent(new Event("input")); })()`);
        expect(Object.keys(await table(page))).toEqual(["tools/cli"]);
    }, 120_000);

    it("without credentials shows the sign-in and no data; 401s to the page carry no Basic challenge, so no browser dialog", async () => {
        const page = await browser.newPage();
        // Every request paused here; an auth challenge the browser would put up a dialog for is counted.
        const challenges: string[] = [];
        const off = browser.on((e) => {
            if (e.sessionId !== page.sessionId) return;
            if (e.method === "Fetch.requestPaused") void page.send("Fetch.continueRequest", { requestId: e.params.requestId });
            if (e.method === "Fetch.authRequired") {
                challenges.push(e.params.request.url);
                void page.send("Fetch.continueWithAuth", { requestId: e.params.requestId, authChallengeResponse: { response: "CancelAuth" } });
            }
        });
        await page.send("Fetch.enable", { handleAuthRequests: true, patterns: [{ urlPattern: "*" }] });
        await page.goto(PAGE_URL);
        await page.until("document.body.dataset.ready === 'true'");
        expect(await page.eval(visible)).toEqual({ signIn: true, catalog: false });
        expect(await page.eval("document.getElementById('repositories').children.length")).toBe(0);
        expect(await page.eval("document.body.innerText")).not.toContain("team/app");

        const withMarker = await page.eval(
            `fetch("/v2/_catalog", { headers: { "X-Registry-Kit-Catalog": "1" } }).then((r) => [r.status, r.headers.get("WWW-Authenticate")])`,
        );
        expect(withMarker).toEqual([401, null]);
        expect(challenges).toEqual([]);
        // The same request without the page's header gets the registry's challenge: the browser would ask.
        const without = await page.eval(`fetch("/v2/_catalog").then((r) => r.status)`);
        expect(without).toBe(401);
        expect(challenges).toEqual([`https://${REGISTRY}/v2/_catalog`]);

        await signIn(page, "admin", "not-the-password");
        await page.until("!document.getElementById('sign-in-error').hidden");
        expect(await page.eval("document.getElementById('sign-in-error').textContent")).toBe("Wrong user name or password.");
        expect(await page.eval(visible)).toEqual({ signIn: true, catalog: false });
        off();
    }, 60_000);

    it("CORS: a page from a listed origin reads the API (digest and Link exposed); from another origin the browser refuses", async () => {
        const call = `fetch("https://${REGISTRY}/v2/team/app/manifests/1.0", { headers: {
                Authorization: "Basic " + btoa("admin:${password}"), "X-Registry-Kit-Catalog": "1",
                Accept: "application/vnd.docker.distribution.manifest.v2+json" } })
            .then((r) => ({ status: r.status, digest: r.headers.get("Docker-Content-Digest") }), (e) => ({ error: String(e) }))`;
        const listed = await browser.newPage();
        await listed.goto(`${LISTED}/`);
        expect(await listed.eval(call)).toEqual({ status: 200, digest: pushed["team/app:1.0"] });
        const link = await listed.eval(`fetch("https://${REGISTRY}/v2/_catalog?n=1", { headers: { Authorization: "Basic " + btoa("admin:${password}") } })
            .then((r) => r.headers.get("Link"))`);
        expect(link).toMatch(/rel="next"/);

        const other = await browser.newPage();
        await other.goto(`${OTHER}/`);
        expect(await other.eval(call)).toEqual({ error: "TypeError: Failed to fetch" });
        // The proxy's answers, as the browser saw them: the preflight for the other origin has no CORS header.
        const preflight = (origin: string) =>
            api("OPTIONS", "/v2/team/app/manifests/1.0", undefined, {
                Origin: origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization,x-registry-kit-catalog",
            });
        const ok = await preflight(LISTED);
        expect(ok.status).toBe(204);
        expect(ok.headers).toMatchObject({
            "access-control-allow-origin": LISTED,
            "access-control-allow-credentials": "true",
            "access-control-allow-methods": "GET, HEAD, DELETE",
            "access-control-allow-headers": "Authorization, Accept, X-Registry-Kit-Catalog",
            vary: "Origin",
        });
        const refused = await preflight(OTHER);
        expect(refused.headers["access-control-allow-origin"]).toBeUndefined();
        expect(refused.headers["access-control-allow-credentials"]).toBeUndefined();
    }, 60_000);

    it("deletes a tag's manifest from the page after the confirmation, and the registry no longer has it", async () => {
        const page = await browser.newPage();
        await page.goto(PAGE_URL);
        await page.until("document.body.dataset.ready === 'true'");
        await signIn(page, "reader", "reader-password-1");
        await page.until("document.querySelectorAll('#repositories [data-repository]').length === 3", 60_000);
        const dialog = browser.waitFor("Page.javascriptDialogOpening", page.sessionId);
        // Clicked from a timer: confirm() blocks the page until the dialog is answered, and the evaluation with it.
        await page.eval(`setTimeout(() => document.querySelector('[data-repository="tools/cli"] tr[data-tag="v2"] button.delete').click(), 0)`);
        expect((await dialog).message).toContain(`Delete tools/cli:v2 (${pushed["tools/cli:v2"]})?`);
        await page.send("Page.handleJavaScriptDialog", { accept: true });
        await page.until(`!document.querySelector('[data-repository="tools/cli"] tr[data-tag="v2"]')`, 30_000);
        expect((await api("GET", `/v2/tools/cli/manifests/${pushed["tools/cli:v2"]}`)).status).toBe(404);
        expect((await api("GET", "/v2/team/app/manifests/1.0")).status).toBe(200);
    }, 60_000);
});
