/**
 * Fresh container images for the benchmark: random, incompressible layers written as an OCI layout
 * in a tar, so skopeo can push them from a tmpfs in the client container. No Docker, no I/O.
 */
import * as crypto from "node:crypto";
import * as zlib from "node:zlib";

const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");

// ---------------------------------------------------------------------------------------------
// A minimal ustar writer: image layers are tars, and the OCI layout goes into the client as a tar.

function tarHeader(name: string, size: number, type: "0" | "5"): Buffer {
    if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
    const h = Buffer.alloc(512);
    const field = (off: number, len: number, s: string) => h.write(s, off, len, "ascii");
    const octal = (off: number, len: number, n: number) => field(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
    field(0, 100, name);
    octal(100, 8, type === "5" ? 0o755 : 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, size);
    octal(136, 12, 1_700_000_000);
    field(148, 8, "        ");
    field(156, 1, type);
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    return h;
}

export function tar(entries: { name: string; data?: Buffer }[]): Buffer {
    const parts: Buffer[] = [];
    for (const e of entries) {
        if (!e.data) {
            parts.push(tarHeader(e.name.endsWith("/") ? e.name : `${e.name}/`, 0, "5"));
            continue;
        }
        parts.push(tarHeader(e.name, e.data.length, "0"), e.data);
        const pad = (512 - (e.data.length % 512)) % 512;
        if (pad) parts.push(Buffer.alloc(pad));
    }
    parts.push(Buffer.alloc(1024));
    return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// A fresh OCI image: layerCount gzip layers of random bytes. gzip level 0 (stored blocks) keeps the
// data incompressible and makes any decompression on the way nearly free, so the measurement is of
// moving bytes, not of (de)compressing them; skopeo pushes already-compressed layers unchanged.

export interface FreshImage {
    /** The OCI layout directory `name/` as tar entries: `tar(image.entries)`, or several images in one tar. */
    entries: { name: string; data?: Buffer }[];
    name: string;
    payloadBytes: number; // layer + config blob bytes that cross the wire
    manifestDigest: string;
}

export function freshImage(name: string, layerCount: number, layerBytes: number): FreshImage {
    const blobs: { digest: string; data: Buffer }[] = [];
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < layerCount; i++) {
        const layerTar = tar([{ name: `layer${i + 1}.bin`, data: crypto.randomBytes(layerBytes) }]);
        diffIds.push(`sha256:${sha256(layerTar)}`);
        const gz = zlib.gzipSync(layerTar, { level: 0 });
        const digest = sha256(gz);
        blobs.push({ digest, data: gz });
        layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${digest}`, size: gz.length });
    }
    const config = Buffer.from(
        JSON.stringify({
            created: new Date().toISOString(),
            architecture: "amd64",
            os: "linux",
            config: { Labels: { "registry-kit.bench": name } },
            rootfs: { type: "layers", diff_ids: diffIds },
            history: diffIds.map(() => ({ created_by: "registry-kit bench: random data" })),
        }),
    );
    const configDigest = sha256(config);
    blobs.push({ digest: configDigest, data: config });
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${configDigest}`, size: config.length },
            layers,
        }),
    );
    const manifestDigest = sha256(manifest);
    blobs.push({ digest: manifestDigest, data: manifest });
    const index = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            manifests: [
                {
                    mediaType: "application/vnd.oci.image.manifest.v1+json",
                    digest: `sha256:${manifestDigest}`,
                    size: manifest.length,
                    annotations: { "org.opencontainers.image.ref.name": "latest" },
                },
            ],
        }),
    );
    const entries = [
        { name },
        { name: `${name}/blobs` },
        { name: `${name}/blobs/sha256` },
        { name: `${name}/oci-layout`, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
        { name: `${name}/index.json`, data: index },
        ...blobs.map((b) => ({ name: `${name}/blobs/sha256/${b.digest}`, data: b.data })),
    ];
    const payloadBytes = layers.reduce((n, l) => n + l.size, 0) + config.length;
    return { entries, name, payloadBytes, manifestDigest: `sha256:${manifestDigest}` };
}
