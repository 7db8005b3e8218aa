/**
 * The sync worker (templates/registry-sync.sh) under /bin/sh with a recording `skopeo` on its PATH:
 * what it copies, what it skips, which credentials go to which side, and how it reports.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-sync-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// Tags v1 and v2 at the source; the destination already has v2 (same manifest), not v1; `latest` is not matched.
const FAKE_SKOPEO = `#!/bin/sh
echo "$*" >>"${work}/calls"
case "$1" in
  list-tags) echo '{"Repository": "x", "Tags": ["v1", "v2", "latest"]}' ;;
  inspect) for a; do ref="$a"; done
    case "$ref" in
      */remote.example/site-b/team/app:v1) exit 1 ;;
      *:v1) echo manifest-v1 ;;
      *:v2) echo manifest-v2 ;;
      *) exit 1 ;;
    esac ;;
  copy) for a; do last="$a"; done; case "$last" in *:v1) exit 0 ;; *) exit 1 ;; esac ;;
esac
`;

function runWorker(plan: string): Promise<{ log: string; exit: string; calls: string[] }> {
    const bin = path.join(work, "bin");
    const control = path.join(work, "control");
    fs.mkdirSync(bin, { recursive: true });
    fs.mkdirSync(path.join(control, "sync"), { recursive: true });
    fs.writeFileSync(path.join(bin, "skopeo"), FAKE_SKOPEO, { mode: 0o755 });
    fs.writeFileSync(path.join(control, "sync", "7-1.plan"), plan);
    fs.writeFileSync(path.join(control, "sync", "request"), "7-1\n");
    const child = spawn("/bin/sh", [path.join(__dirname, "..", "..", "templates", "registry-sync.sh")], {
        env: {
            PATH: `${bin}:/usr/bin:/bin`,
            CONTROL_DIR: control,
            RK_LOCAL_REGISTRY: "registry:5000",
            RK_CREDS_LOCAL: "admin:local-secret",
            RK_CREDS_0: "ci:remote-secret",
        },
    });
    return new Promise((resolve, reject) => {
        const deadline = Date.now() + 20_000;
        const poll = setInterval(() => {
            const exit = path.join(control, "sync", "7-1.exit");
            if (fs.existsSync(exit)) {
                clearInterval(poll);
                child.kill("SIGTERM");
                resolve({
                    log: fs.readFileSync(path.join(control, "sync", "7-1.log"), "utf8"),
                    exit: fs.readFileSync(exit, "utf8").trim(),
                    calls: fs.readFileSync(path.join(work, "calls"), "utf8").trim().split("\n"),
                });
            } else if (Date.now() > deadline) {
                clearInterval(poll);
                child.kill("SIGKILL");
                reject(new Error("the worker did not finish"));
            }
        }, 100);
    });
}

describe("sync worker", () => {
    it("copies the matching tags the destination lacks, skips those it has, with each side's credentials", async () => {
        const { log, exit, calls } = await runWorker("0 registry:5000 0 team/app remote.example 1 site-b/team/app ^(v.*)$\n");
        expect(log.trim().split("\n").sort()).toEqual(["copied team/app:v1", "skipped team/app:v2"]);
        expect(exit).toBe("0");
        const copies = calls.filter((c) => c.startsWith("copy "));
        expect(copies).toEqual([
            "copy --all --preserve-digests --retry-times 2 --src-tls-verify=false --dest-tls-verify=true --src-creds admin:local-secret --dest-creds ci:remote-secret docker://registry:5000/team/app:v1 docker://remote.example/site-b/team/app:v1",
        ]);
        expect(calls.some((c) => c.includes("latest"))).toBe(false);
    });
});
