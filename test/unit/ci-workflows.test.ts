/**
 * The pull-request workflows in docs/ci: each parses, runs `pulumi preview` and the credential-free
 * render diff on pull requests, posts both, and its shell is valid bash; and docs/ci/render-diff.sh
 * itself, run on this checkout: the same state gives no diff for no change, and a change shows up in
 * exactly the files it touches.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const CI = path.join(ROOT, "docs", "ci");
const load = (f: string) => parse(fs.readFileSync(path.join(CI, f), "utf8"));

/** `bash -n` on a shell fragment: undefined when it parses, else bash's complaint. */
function bashSyntax(script: string): string | undefined {
    const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    return r.status === 0 ? undefined : r.stderr;
}

describe("the GitHub Actions workflow", () => {
    const wf = load("github-actions-preview.yml");
    const steps: Record<string, unknown>[] = wf.jobs.preview.steps;

    it("runs on pull requests, may comment, and builds before previewing", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expect(wf.permissions["pull-requests"]).toBe("write");
        const runs = steps.map((s) => s.run).filter(Boolean);
        expect(runs.indexOf("npm run build")).toBeGreaterThan(runs.indexOf("npm ci --no-audit --no-fund"));
    });

    it("previews with pulumi/actions, commenting on the PR, only when the backend's secrets exist", () => {
        const preview = steps.find((s) => String(s.uses).startsWith("pulumi/actions@"))!;
        expect(preview.with).toMatchObject({ command: "preview", "comment-on-pr": true, "stack-name": "${{ env.STACK }}" });
        expect(preview.if).toBe("env.HAS_BACKEND == 'true'");
        expect((preview.env as Record<string, string>).PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
        const ssh = steps.find((s) => String(s.run).includes("id_ed25519"))!;
        expect(steps.indexOf(ssh)).toBeLessThan(steps.indexOf(preview));
        expect((ssh.env as Record<string, string>).DEPLOY_SSH_KEY).toBe("${{ secrets.DEPLOY_SSH_KEY }}");
    });

    it("renders base and head with the same state and posts the diff, with no condition", () => {
        const diff = steps.find((s) => String(s.run).includes("render-diff.sh"))!;
        expect(diff.run).toContain("${{ github.event.pull_request.base.sha }}");
        expect(diff.if).toBeUndefined();
        expect(steps.some((s) => String(s.run).includes("gh pr comment"))).toBe(true);
        expect(wf.jobs.preview.steps[0].with["fetch-depth"]).toBe(0);
    });

    it("has valid bash in every step", () => {
        for (const s of steps.filter((x) => x.run)) expect(bashSyntax(String(s.run)), String(s.run)).toBeUndefined();
    });
});

describe("the GitLab CI merge request pipeline", () => {
    const ci = load("gitlab-ci-preview.yml");

    it("runs both jobs in merge request pipelines only, preview only with the backend's secret", () => {
        expect(ci[".registry-kit-node"].rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
        expect(ci["registry-kit-render-diff"].extends).toBe(".registry-kit-node");
        expect(ci["registry-kit-preview"].rules.map((r: { if: string }) => r.if)).toEqual([
            '$CI_PIPELINE_SOURCE == "merge_request_event" && $PULUMI_CONFIG_PASSPHRASE',
            '$CI_PIPELINE_SOURCE == "merge_request_event" && $PULUMI_ACCESS_TOKEN',
        ]);
        expect(ci[".registry-kit-node"].before_script).toEqual(["npm ci --no-audit --no-fund", "npm run build"]);
    });

    it("previews, renders base and head, and posts both as merge request notes", () => {
        const preview = ci["registry-kit-preview"].script.join("\n");
        expect(preview).toContain("pulumi preview --diff --non-interactive");
        expect(preview).toContain("merge_requests/$CI_MERGE_REQUEST_IID/notes");
        const diff = ci["registry-kit-render-diff"].script.join("\n");
        expect(diff).toContain('bash docs/ci/render-diff.sh "$CI_MERGE_REQUEST_DIFF_BASE_SHA" "$STACK" render.diff');
        expect(diff).toContain("merge_requests/$CI_MERGE_REQUEST_IID/notes");
    });

    it("has valid bash in every script line", () => {
        for (const job of ["registry-kit-preview", "registry-kit-render-diff"]) {
            for (const line of ci[job].script) expect(bashSyntax(line), line).toBeUndefined();
        }
    });
});

describe("the Gitee Go pipeline", () => {
    const p = load("gitee-go-preview.yml");
    const step = p.stages[0].steps[0];

    it("is a version 1.0 pipeline triggered by pull requests on any branch, on Node.js", () => {
        expect(p.version).toBe("1.0");
        expect(p.triggers).toEqual({ trigger: "auto", pr: { branches: { prefix: [""] } } });
        expect(step.step).toBe("build@nodejs");
        expect(p.variables.global).toEqual(expect.arrayContaining(["PULUMI_CONFIG_PASSPHRASE", "DEPLOY_SSH_KEY", "GITEE_TOKEN"]));
    });

    it("previews when it has the passphrase, renders base and head always, and comments both", () => {
        const script = step.commands.join("\n");
        expect(script).toMatch(/if \[ -n "\$PULUMI_CONFIG_PASSPHRASE" \]; then[\s\S]*pulumi preview --diff[\s\S]*comment preview\.md\n\s*fi/);
        expect(script).toContain('bash docs/ci/render-diff.sh "$(git merge-base FETCH_HEAD HEAD)" "$STACK" render.diff');
        expect(script).toContain("/api/v5/repos/$GITEE_REPO_PATH/pulls/$GITEE_PULL_ID/comments");
        for (const c of step.commands) expect(bashSyntax(c), c).toBeUndefined();
    });
});

describe("docs/ci/render-diff.sh", () => {
    const run = (out: string, env: Record<string, string> = {}) =>
        execFileSync("bash", [path.join(CI, "render-diff.sh"), "HEAD", "local", out], {
            cwd: ROOT,
            encoding: "utf8",
            env: { ...process.env, ...env },
            timeout: 120_000,
        });

    it("finds no change between a commit and itself (the shared state keeps every generated value)", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rk-diff-")), "render.diff");
        expect(run(out)).toContain("render diff for stack local: no change");
        expect(fs.readFileSync(out, "utf8")).toBe("");
    }, 120_000);

    it("shows a change in exactly the files it touches", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rk-diff-")), "render.diff");
        expect(run(out, { RENDER_HEAD_ARGS: "--set proxy.httpsPort=9443" })).toContain("render diff for stack local: 3 files changed");
        const diff = fs.readFileSync(out, "utf8");
        expect(diff.split("\n").filter((l) => l.startsWith("diff "))).toEqual([
            "diff -ruN base/files/rk-local-proxy/etc/nginx/nginx.conf head/files/rk-local-proxy/etc/nginx/nginx.conf",
            "diff -ruN base/manifest.json head/manifest.json",
            "diff -ruN base/outputs.json head/outputs.json",
        ]);
        expect(diff).toContain("-            return 301 https://$host:8443$request_uri;\n+            return 301 https://$host:9443$request_uri;");
    }, 120_000);

    it("refuses the wrong number of arguments", () => {
        const r = spawnSync("bash", [path.join(CI, "render-diff.sh"), "HEAD"], { cwd: ROOT, encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("usage:");
    });
});
