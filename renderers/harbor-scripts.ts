/**
 * The commands HarborInstaller runs on Harbor's host: templates/harbor-lifecycle.sh with its settings
 * written in front, and the stdin that carries harbor.yml and the TLS files. Pure: no Pulumi, no I/O
 * beyond reading the template.
 */
import { templateText } from "./template";

export type HarborAction = "create" | "update" | "delete";

/** Where things live on Harbor's host, under one install directory. */
export interface HarborPaths {
    /** The install directory. */
    dir: string;
    /** The extracted installer (`harbor/` of the tarball): prepare, docker-compose.yml, common/config. */
    harborDir: string;
    /** harbor.yml, where the installer's prepare reads it. */
    harborYml: string;
    /** Downloaded installers, kept to skip a second download. */
    downloads: string;
    tlsDir: string;
    certificate: string;
    privateKey: string;
    /** The installed Harbor version, written after a successful start. */
    versionFile: string;
}

export function harborPaths(installDir: string): HarborPaths {
    const dir = installDir.replace(/\/+$/, "");
    return {
        dir,
        harborDir: `${dir}/harbor`,
        harborYml: `${dir}/harbor/harbor.yml`,
        downloads: `${dir}/downloads`,
        tlsDir: `${dir}/tls`,
        certificate: `${dir}/tls/server.crt`,
        privateKey: `${dir}/tls/server.key`,
        versionFile: `${dir}/version`,
    };
}

export interface HarborScriptParams {
    version: string;
    installerUrl: string;
    installerSha256: string;
    installDir: string;
    dataVolume: string;
    /** SHA-256 of harbor.yml and the TLS files: a change shows in the command and triggers an update. */
    configSha256: string;
    /** Arguments of the installer's prepare, e.g. --with-trivy. */
    prepareArgs: string[];
}

/** POSIX single-quoted word. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

const DELIMITER = "RK_HARBOR_SCRIPT";

/**
 * The command text: bash reads the script from a here-document on fd 3, so stdin stays free for the
 * files and the text runs the same under any POSIX login shell, local or over SSH.
 */
export function harborCommand(action: HarborAction, p: HarborScriptParams): string {
    const paths = harborPaths(p.installDir);
    const settings: [string, string][] = [
        ["RK_VERSION", p.version],
        ["RK_URL", p.installerUrl],
        ["RK_SHA256", p.installerSha256.toLowerCase()],
        ["RK_DIR", paths.dir],
        ["RK_HARBOR_DIR", paths.harborDir],
        ["RK_HARBOR_YML", paths.harborYml],
        ["RK_DOWNLOADS", paths.downloads],
        ["RK_TLS_DIR", paths.tlsDir],
        ["RK_CERTIFICATE", paths.certificate],
        ["RK_PRIVATE_KEY", paths.privateKey],
        ["RK_VERSION_FILE", paths.versionFile],
        ["RK_DATA_VOLUME", p.dataVolume],
        ["RK_CONFIG_SHA256", p.configSha256],
        ["RK_PREPARE_ARGS", p.prepareArgs.join(" ")],
    ];
    const script = templateText("harbor-lifecycle.sh");
    if (script.split("\n").includes(DELIMITER)) throw new Error(`harbor-lifecycle.sh must not contain a line ${DELIMITER}`);
    return [`bash /dev/fd/3 ${action} 3<<'${DELIMITER}'`, ...settings.map(([k, v]) => `${k}=${shellQuote(v)}`), script.trimEnd(), DELIMITER, ""].join("\n");
}

/** One `<name> <base64>` line per file, in a fixed order. */
export function harborStdin(files: Record<string, string>): string {
    return (
        Object.keys(files)
            .sort()
            .map((name) => `${name} ${Buffer.from(files[name], "utf8").toString("base64")}`)
            .join("\n") + "\n"
    );
}
