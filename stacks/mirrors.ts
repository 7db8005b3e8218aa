/**
 * The pull-through mirrors from `mirrors` settings: one Registry in proxy mode per upstream, on its own volume
 * (or its own prefix of the registry's bucket), the TLS proxy's servers for them, their scrape job and what
 * clients paste.
 */
import * as pulumi from "@pulumi/pulumi";
import { Registry, S3StorageArgs } from "../components/registry";
import { TlsProxyMirrorArgs } from "../components/tls-proxy";
import { containerdHostsFiles, dockerDaemonJson, MirrorClientInput, mirrorPullExample } from "../renderers/mirror-clients";
import { mirrorScrapeJob, ScrapeJob } from "../renderers/prometheus-config";
import { RegistryDeployment, registryHost, StackTarget } from "./common";
import { Settings } from "./schema";
import { isDockerHubMirror } from "./settings/mirrors";

export interface MirrorDeployment {
    registries: Registry[];
    /** The proxy's servers for the mirrors. */
    proxy: TlsProxyMirrorArgs[];
    /** Prometheus's job for them (none without mirrors). */
    scrapeJobs: pulumi.Output<ScrapeJob[]>;
    clients: MirrorClientInput[];
}

/** The S3 key prefix of a mirror: `<rootDirectory>/mirrors/<name>`, inside the prefix the registry's IAM policy allows. */
export function mirrorRootDirectory(rootDirectory: string, name: string): string {
    return `${rootDirectory.replace(/\/+$/, "")}/mirrors/${name}`;
}

/** The mirrors of `settings.mirrors`, beside `deployment`'s registry (its storage and auth). */
export function mirrorsFromSettings(settings: Settings, target: StackTarget, deployment: RegistryDeployment, htpasswd: pulumi.Input<string>): MirrorDeployment {
    const s3 = deployment.storage.s3;
    const registries = settings.mirrors.map((m) => {
        const name = `${target.prefix}-mirror-${m.name}`;
        const mirrorS3: S3StorageArgs | undefined = s3 && {
            ...s3,
            // A mirror serves its cached blobs itself: no redirects (its clients may be anonymous, and its allowlist stays in force).
            redirect: false,
            rootDirectory: pulumi.output(s3.rootDirectory ?? "/registry").apply((root) => mirrorRootDirectory(root, m.name)),
        };
        return new Registry(
            name,
            {
                networkName: target.network.name,
                alias: `mirror-${m.name}`,
                image: settings.registry.image,
                dialect: settings.registry.dialect,
                metricsGateImage: settings.proxy.image,
                htpasswd: m.anonymous ? undefined : htpasswd,
                volumeName: m.volumeName ?? `${name}-data`,
                retainDataOnDelete: m.retainOnDelete,
                s3: mirrorS3,
                logLevel: settings.registry.logLevel,
                pullThrough: {
                    remoteUrl: m.upstream.replace(/\/$/, ""),
                    username: m.username,
                    password: m.password === undefined ? undefined : pulumi.secret(m.password),
                    ttl: m.ttl,
                },
            },
            target.childOpts,
        );
    });
    const proxy = settings.mirrors.map((m, i): TlsProxyMirrorArgs => ({
        name: m.name,
        upstreamUrl: m.upstream,
        upstream: registries[i].address,
        hostname: m.hostname,
        httpsPort: m.httpsPort,
        refuseWrites: m.anonymous,
    }));
    const scrapeJobs =
        registries.length === 0
            ? pulumi.output([])
            : pulumi
                  .all(registries.map((r) => r.metricsAddresses))
                  .apply((targets) => [mirrorScrapeJob(settings.mirrors.map((m, i) => ({ name: m.name, targets: targets[i] })))]);
    const clients = settings.mirrors.map((m): MirrorClientInput => ({
        name: m.name,
        upstreamUrl: m.upstream,
        dockerHub: isDockerHubMirror(m),
        host: registryHost(m.hostname ?? settings.hostname, m.httpsPort ?? settings.proxy.httpsPort),
        anonymous: m.anonymous,
    }));
    return { registries, proxy, scrapeJobs, clients };
}

/** The stack outputs of the mirrors: per mirror its URL and pull form, daemon.json, containerd's files. */
export function mirrorOutputs(d: MirrorDeployment, caCertificate: pulumi.Output<string>, selfSigned: boolean) {
    return {
        mirrors: pulumi.output(
            Object.fromEntries(
                d.clients.map((c) => [
                    c.name,
                    { url: `https://${c.host}`, host: c.host, upstream: c.upstreamUrl, anonymous: c.anonymous, pull: mirrorPullExample(c) },
                ]),
            ),
        ),
        mirrorDockerDaemonJson: pulumi.output(dockerDaemonJson(d.clients) ?? ""),
        mirrorContainerdHosts: caCertificate.apply((ca) => containerdHostsFiles(d.clients, selfSigned ? ca : undefined)),
    };
}
