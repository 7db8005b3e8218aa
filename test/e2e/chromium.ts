/**
 * Headless Chromium (Debian's package, /usr/bin/chromium) driven over the Chrome DevTools Protocol on
 * its pipe (`--remote-debugging-pipe`: requests on fd 3, answers and events on fd 4, each a JSON text
 * ended by NUL): no websocket client, no browser download, no npm package.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable, Writable } from "node:stream";

export const CHROMIUM = "/usr/bin/chromium";

type Event = { method: string; params: any; sessionId?: string };

export class Chromium {
    private nextId = 1;
    private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; method: string }>();
    private readonly listeners: ((e: Event) => void)[] = [];
    private buffer = "";
    private readonly stderr: string[] = [];

    private constructor(
        private readonly proc: ChildProcess,
        private readonly input: Writable,
        output: Readable,
    ) {
        output.setEncoding("utf8");
        output.on("data", (chunk: string) => {
            this.buffer += chunk;
            for (let end = this.buffer.indexOf("\0"); end >= 0; end = this.buffer.indexOf("\0")) {
                const message = JSON.parse(this.buffer.slice(0, end));
                this.buffer = this.buffer.slice(end + 1);
                if (message.id !== undefined) {
                    const p = this.pending.get(message.id);
                    this.pending.delete(message.id);
                    if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
                    else p?.resolve(message.result);
                } else {
                    for (const l of [...this.listeners]) l(message);
                }
            }
        });
        proc.stderr?.on("data", (d) => this.stderr.push(String(d)));
    }

    /**
     * Starts Chromium headless with a fresh profile in `profileDir`. `extraArgs` are Chromium flags
     * (`--host-resolver-rules=...`, `--ignore-certificate-errors-spki-list=...`).
     */
    static launch(profileDir: string, extraArgs: string[]): Chromium {
        fs.mkdirSync(profileDir, { recursive: true });
        const proc = spawn(
            CHROMIUM,
            [
                "--headless",
                // Tests run as root, and Chromium refuses to start its sandbox as root: --no-sandbox.
                // The pages it opens are this test's own (the stack's proxy and loopback servers).
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                // No traffic off this machine: no component updates, sync, field trials or safe browsing lookups.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=OptimizationHints,MediaRouter,Translate",
                "--metrics-recording-only",
                `--user-data-dir=${path.resolve(profileDir)}`,
                "--remote-debugging-pipe",
                ...extraArgs,
                "about:blank",
            ],
            { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
        );
        return new Chromium(proc, proc.stdio[3] as Writable, proc.stdio[4] as Readable);
    }

    /** One CDP command; `sessionId` addresses a page attached with `flatten`. */
    send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 30_000): Promise<any> {
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(id);
                reject(new Error(`${method}: no answer in ${timeoutMs} ms; chromium said: ${this.stderr.join("").slice(-2000)}`));
            }, timeoutMs);
            this.pending.set(id, {
                method,
                resolve: (v) => (clearTimeout(timer), resolve(v)),
                reject: (e) => (clearTimeout(timer), reject(e)),
            });
            this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
        });
    }

    on(listener: (e: Event) => void): () => void {
        this.listeners.push(listener);
        return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
    }

    /** The next event `method` (on `sessionId`) that `match` accepts. */
    waitFor(method: string, sessionId: string | undefined, match: (params: any) => boolean = () => true, timeoutMs = 30_000): Promise<any> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => (off(), reject(new Error(`no ${method} in ${timeoutMs} ms`))), timeoutMs);
            const off = this.on((e) => {
                if (e.method === method && e.sessionId === sessionId && match(e.params)) {
                    clearTimeout(timer);
                    off();
                    resolve(e.params);
                }
            });
        });
    }

    /** A new tab in a fresh browser context (no shared cache or storage), attached: its session. */
    async newPage(): Promise<Page> {
        const { browserContextId } = await this.send("Target.createBrowserContext", { disposeOnDetach: true });
        const { targetId } = await this.send("Target.createTarget", { url: "about:blank", browserContextId });
        const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
        const page = new Page(this, sessionId);
        await page.send("Page.enable");
        await page.send("Runtime.enable");
        return page;
    }

    async close(): Promise<void> {
        await this.send("Browser.close", {}, undefined, 5_000).catch(() => undefined);
        if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    }
}

export class Page {
    constructor(
        readonly browser: Chromium,
        readonly sessionId: string,
    ) {}

    send(method: string, params: Record<string, unknown> = {}): Promise<any> {
        return this.browser.send(method, params, this.sessionId);
    }

    /** Navigates and waits for the load event; the navigation's HTTP status (undefined if none). */
    async goto(url: string): Promise<void> {
        const loaded = this.browser.waitFor("Page.loadEventFired", this.sessionId);
        const r = await this.send("Page.navigate", { url });
        if (r.errorText) throw new Error(`navigation to ${url} failed: ${r.errorText}`);
        await loaded;
    }

    /** Evaluates `expression` in the page (promises awaited); its value as JSON. Throws the page's exception. */
    async eval<T = any>(expression: string): Promise<T> {
        const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value as T;
    }

    /** Polls `expression` until it is truthy; returns its value. */
    async until<T = any>(expression: string, timeoutMs = 30_000): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const v = await this.eval<T>(expression);
            if (v) return v;
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
            await new Promise((r) => setTimeout(r, 200));
        }
    }

    /** A PNG of the whole page. */
    async screenshot(file: string): Promise<void> {
        const { data } = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, Buffer.from(data, "base64"));
    }
}
