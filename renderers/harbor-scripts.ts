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

/** registry-kit's markers in data_volume: the installed version and the database password's HMAC. */
export const harborDataState = (dataVolume: string): string => `${dataVolume.replace(/\/+$/, "")}/.registry-kit`;

export interface HarborScriptParams {
    version: string;
    installerUrl: string;
    installerSha256: string;
    installDir: string;
    dataVolume: string;
    /** Keyed HMAC-SHA256 of harbor.yml and the TLS files: a change shows in the command and makes an update. */
    configHmac: string;
    /**
     * Unique to the command resource and its connection (changes when a connection change or a rename
     * replaces it; not on `pulumi up --replace`): written on the host at create and update, with an owner
     * token drawn there at run time; a delete whose id and token are no longer recorded there leaves
     * Harbor running.
     */
    owner: string;
    /** Arguments of the installer's prepare, e.g. --with-trivy. */
    prepareArgs: string[];
    /** tls.mode acme: the certbot image and the renewal container's name on Harbor's host. Default: none (no ACME). */
    acme?: { image: string; container: string };
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
        ["RK_DATA_STATE", harborDataState(p.dataVolume)],
        ["RK_CONFIG_HMAC", p.configHmac],
        ["RK_OWNER", p.owner],
        ["RK_PREPARE_ARGS", p.prepareArgs.join(" ")],
    ];
    if (p.acme) settings.push(["RK_ACME", "1"], ["RK_ACME_IMAGE", p.acme.image], ["RK_ACME_CONTAINER", p.acme.container]);
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

/** The files of a `harborStdin` text, by name (what the lifecycle script reads). */
export function parseHarborStdin(stdin: string): Record<string, string> {
    return Object.fromEntries(
        stdin
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => {
                const [name, data] = l.split(" ");
                return [name, Buffer.from(data ?? "", "base64").toString("utf8")];
            }),
    );
}
