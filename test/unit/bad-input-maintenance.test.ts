/**
 * `registry-kit:maintenance` settings that cannot work fail at preview, one line per problem naming
 * the setting, the value and what is allowed; good ones render the job, the GC worker and the proxy's
 * read-only window.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { renderMaintenanceConfig } from "../../renderers/maintenance-config";

const base = { hostname: "registry.example.com" };
const failure = (maintenance: Record<string, unknown>, more: Record<string, unknown> = {}) =>
    settingsFailure({ ...base, ...more, maintenance: { enabled: true, ...maintenance } }, ["registry", "auth", "harbor", "gitlab"]);
const line = (setting: string, rest: string) => `invalid stack configuration:\nregistry-kit:maintenance.${setting}: ${rest}`;

describe("maintenance settings that fail at preview", () => {
    it("an unparsable schedule, a field out of range, names the job does not understand", () => {
        expect(failure({ schedule: "every sunday" })).toBe(
            line("schedule", 'got "every sunday"; allowed: five fields (minute hour day-of-month month day-of-week), not 2'),
        );
        expect(failure({ schedule: "61 3 * * *" })).toBe(
            line("schedule", 'got "61 3 * * *"; allowed: a valid cron schedule (Constraint error, got value 61 expected range 0-59)'),
        );
        expect(failure({ schedule: "0 3 * * SUN" })).toBe(
            line("schedule", "got \"0 3 * * SUN\"; allowed: numbers, '*', ranges (1-5), steps (*/15) and lists (1,15) in each field"),
        );
    });

    it("a time zone that does not exist", () => {
        expect(failure({ timezone: "Mars/Olympus" })).toBe(line("timezone", 'got "Mars/Olympus"; allowed: an IANA time zone such as UTC or Europe/Berlin'));
    });

    it("a keep count below 0, and 0 without the explicit allowance", () => {
        expect(failure({ retention: [{ repositories: ["**"], keepMostRecent: -1 }] })).toBe(
            line("retention[0].keepMostRecent", "got -1; allowed: a whole number, 0 or more"),
        );
        expect(failure({ retention: [{ repositories: ["**"], keepMostRecent: 0 }] })).toBe(
            line("retention[0].keepMostRecent", "got 0; allowed: 1 or more, or 0 with allowDeletingAllTags: true (it deletes every tag the rule matches)"),
        );
    });

    it("a regex that does not compile", () => {
        expect(failure({ retention: [{ repositoryRegex: "team/(", keepAll: true }] })).toBe(
            line(
                "retention[0].repositoryRegex",
                'got "team/("; allowed: a JavaScript regular expression (Invalid regular expression: /team/(/: Unterminated group)',
            ),
        );
    });

    it("a rule with no repositories, a rule with two conditions, an age that is not one", () => {
        expect(failure({ retention: [{ keepMostRecent: 3 }] })).toBe(
            line("retention[0].repositories", "got nothing; allowed: a list of repository globs (or repositoryRegex): a rule must name its repositories"),
        );
        expect(failure({ retention: [{ repositories: ["**"], keepMostRecent: 3, keepPushedWithin: "30d" }] })).toBe(
            line(
                "retention[0].keepPushedWithin",
                'got "30d"; allowed: exactly one of keepMostRecent, keepPushedWithin, keepAll in each rule (write two rules for two conditions)',
            ),
        );
        expect(failure({ retention: [{ repositories: ["**"], keepPushedWithin: "1 month" }] })).toBe(
            line("retention[0].keepPushedWithin", 'got "1 month"; allowed: an age such as 30d, 4w, 1d12h (units y, w, d, h, m, s)'),
        );
    });

    it("--delete-untagged with a registry before 3.0.0, where it deletes multi-arch children", () => {
        expect(failure({ gc: { deleteUntagged: true } }, { registry: { image: "registry:2.8.3" } })).toBe(
            line(
                "gc.deleteUntagged",
                "got true; allowed: false with registry:2.8.3: before Distribution 3.0.0, --delete-untagged deletes the children of multi-arch images",
            ),
        );
        expect(parseSettings({ ...base, maintenance: { enabled: true, gc: { deleteUntagged: true } } }).maintenance.gc.deleteUntagged).toBe(true);
    });

    it("a backup of storage that is not the data volume, a keep count below 1", () => {
        const s3 = { storage: { type: "s3", s3: { region: "eu-west-1" } } };
        expect(failure({ backup: { enabled: true } }, { registry: s3 })).toBe(
            line(
                "backup.enabled",
                'got true; allowed: false with registry.storage.type s3: the snapshot copies the data volume; back a bucket up with its versioning (registry.storage.s3.versioning) and replication (README, "Backup and restore")',
            ),
        );
        expect(failure({ backup: { enabled: true, keep: 0 } })).toBe(line("backup.keep", "got 0; allowed: a whole number, 1 or more"));
        expect(parseSettings({ ...base, maintenance: { enabled: true, backup: { enabled: true } } }).maintenance.backup).toEqual({ enabled: true, keep: 7 });
    });

    it("replication entries that cannot work, and a password that is not a secret", () => {
        const entry = { name: "site-b", direction: "push", registry: "registry.site-b.example", repositories: ["team/app"] };
        expect(failure({ replication: [{ ...entry, registry: "https://registry.site-b.example/v2" }] })).toBe(
            line(
                "replication[0].registry",
                'got "https://registry.site-b.example/v2"; allowed: a registry as host or host:port, such as registry.example.com or 10.0.0.5:5000 (no scheme, no path, no credentials)',
            ),
        );
        expect(failure({ replication: [{ ...entry, repositories: ["Team/*"] }] })).toBe(
            line("replication[0].repositories[0]", 'got "Team/*"; allowed: a repository name such as team/app (lowercase path components)'),
        );
        expect(failure({ replication: [{ ...entry, direction: "both" }] })).toBe(
            line("replication[0].direction", 'got "both"; allowed: one of "push", "pull"'),
        );
        expect(failure({ replication: [{ ...entry, registry: "registry.example.com:443" }] })).toBe(
            line("replication[0].registry", 'got "registry.example.com:443"; allowed: another registry than this one (it is this stack\'s own hostname)'),
        );
        expect(failure({ replication: [entry, entry] })).toBe(line("replication[1].name", 'got "site-b"; allowed: a name no other replication entry has'));
        expect(failure({ replication: [{ ...entry, username: "ci" }] })).toBe(
            line("replication[0].password", "got nothing; allowed: set together with the other: username and password"),
        );
        expect(settingsFailure({ ...base, maintenance: { enabled: true, replication: [{ ...entry, username: "ci", password: "plain" }] } }, [])).toBe(
            "invalid stack configuration:\nregistry-kit:maintenance.replication[*].password: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:maintenance.replication[0].password' ...)",
        );
    });

    it("topologies whose own tools do the job", () => {
        expect(
            settingsFailure(
                { topology: "harbor", hostname: "harbor.example.com", harbor: { installerSha256: "a".repeat(64) }, maintenance: { enabled: true } },
                ["harbor"],
            ),
        ).toBe(
            line(
                "enabled",
                "got true; allowed: false with topology harbor (Harbor runs its own tag retention and garbage collection: configure them in Harbor)",
            ),
        );
        expect(failure({ retention: [{ repositories: ["**"], keepMostRecent: 3 }] }, { registry: { deleteEnabled: false } })).toBe(
            line("retention", "got a list; allowed: [] while registry.deleteEnabled is false (retention deletes manifests through the API)"),
        );
    });

    it("deletes nothing by default, on Sundays at 03:00 UTC", () => {
        const m = parseSettings(base).maintenance;
        expect(m).toMatchObject({
            enabled: false,
            schedule: "0 3 * * 0",
            timezone: "UTC",
            dryRun: false,
            retention: [],
            gc: { enabled: true, deleteUntagged: false },
        });
    });
});

describe("rendered maintenance", () => {
    it("the proxy refuses writes only while the flag file exists, in the registry's error format, with Retry-After", () => {
        const conf = renderNginxConf({
            hostname: "r.example.com",
            upstream: "registry:5000",
            publicHttpsPort: 443,
            allowCidrs: [],
            hstsMaxAge: 0,
            readOnlyRetryAfterSeconds: 120,
        });
        expect(conf).toContain("if (-f /run/registry-kit-maintenance/readonly) {");
        expect(conf).toMatch(/map \$request_method \$registry_write \{\n\s+default 0;\n\s+POST 1;\n\s+PUT 1;\n\s+PATCH 1;\n\s+DELETE 1;/);
        expect(conf).toContain("set $registry_retry_after 120;");
        expect(conf).toContain('"code":"UNAVAILABLE"');
        const without = renderNginxConf({ hostname: "r.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 });
        expect(without).not.toContain("registry-kit-maintenance");
        expect(without).not.toContain("Retry-After");
    });

    it("globs become whole-name regexes; ages become seconds", () => {
        const config = JSON.parse(
            renderMaintenanceConfig({
                registryUrl: "http://registry:5000",
                schedule: "0 3 * * 0",
                timezone: "UTC",
                dryRun: false,
                retention: [
                    { repositories: ["team/*", "ci/**"], tags: ["v*"], keepAll: true },
                    { repositoryRegex: "^x$", keepPushedWithinSeconds: 86400 },
                ],
                gc: { enabled: true, deleteUntagged: false, drainTimeoutSeconds: 600, timeoutSeconds: 7200 },
                storage: { kind: "filesystem" },
                metricsTargets: ["registry:5001"],
            }),
        );
        expect(config.retention).toEqual([
            { name: "rule-1", repositories: "^(?:team\\/[^/]*|ci\\/.*)$", tags: "^(?:v[^/]*)$", keep: { all: true }, allowDeletingAllTags: false },
            { name: "rule-2", repositories: "^(?:^x$)$", tags: "^(?:.*)$", keep: { pushedWithinSeconds: 86400 }, allowDeletingAllTags: false },
        ]);
        expect(config.storage).toEqual({ kind: "filesystem", root: "/var/lib/registry" });
        expect(config.redis).toBeNull();
    });
});
