/**
 * The offline engine: Pulumi mocks that play the providers' part for real. Random values, keys and
 * certificates are generated here (tls and random providers); Docker resources echo their inputs.
 * Every resource is recorded with its resolved inputs. A state map, like a Pulumi state file, keeps
 * generated values for resources whose inputs did not change, so a second run yields the same inputs.
 */
import * as bcrypt from "bcryptjs";
import * as pulumi from "@pulumi/pulumi";
import { certRequest, generatePrivateKey, locallySignedCert, randomPassword, selfSignedCert } from "./crypto";
import { readBackContainer, readBackNetwork } from "./docker-provider";
import { onRegisterResource } from "./sdk-internals";
import { looksLikePrivateKey } from "../primitives/tls";

/** The state a provider keeps for these inputs after its create and read. */
function readBack(type: string, inputs: Record<string, any>): Record<string, unknown> {
    if (type === "docker:index/container:Container") return readBackContainer(inputs);
    if (type === "docker:index/network:Network") return readBackNetwork(inputs);
    return inputs;
}

/** Pulumi's wire markers (public in `pulumi.runtime`): the key of a marked value, and the marks of a secret and of an output value. */
const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

export interface ResourceRecord {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** Inputs as the program sent them; secret values keep Pulumi's secret wrapper. */
    inputs: Record<string, unknown>;
    /** Outputs the engine answered with (generated values unwrapped). */
    outputs: Record<string, unknown>;
    /** Resource options that change what an update or destroy does. */
    options: ResourceOptionsRecord;
    /** Explicit provider reference (`urn::id`), when the resource was given one. */
    provider?: string;
}

export interface ResourceOptionsRecord {
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    additionalSecretOutputs: string[];
    /** Property paths whose change replaces the resource (the option, with what a provider SDK adds, e.g. `triggers[*]`). */
    replaceOnChanges: string[];
    /** Names of the resources this one waits for (dependsOn and inputs), sorted. */
    dependsOn: string[];
    /** `customTimeouts.create`, when set (Go duration). */
    createTimeout?: string;
}

export interface StateEntry {
    inputsHash: string;
    outputs: Record<string, unknown>;
}

/** An output value carries its own `secret` flag. */
const OUTPUT_SIG = pulumi.runtime.specialOutputValueSig;

export function isSecretWrapper(v: unknown): v is { value: unknown } {
    if (v === null || typeof v !== "object") return false;
    const o = v as Record<string, unknown>;
    return o[SIG_KEY] === SECRET_SIG || (o[SIG_KEY] === OUTPUT_SIG && o.secret === true);
}

/** An output-value wrapper that is not secret: only its value matters here. */
function isPlainOutputValue(v: unknown): v is { value: unknown } {
    return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === OUTPUT_SIG && (v as Record<string, unknown>).secret !== true;
}

/** A value wrapped the way Pulumi marks a secret on the wire. */
export function wrapSecret(value: unknown): { value: unknown } {
    return { [SIG_KEY]: SECRET_SIG, value } as { value: unknown };
}

/** Removes secret wrappers, leaving plain values. */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretWrapper(v) || isPlainOutputValue(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** Replaces every secret, and every text that holds a private key, by a marker that says it was masked. */
export function maskSecrets(v: unknown, marker = "[secret]"): unknown {
    if (isSecretWrapper(v) || (typeof v === "string" && looksLikePrivateKey(v))) return marker;
    if (isPlainOutputValue(v)) return maskSecrets(v.value, marker);
    if (Array.isArray(v)) return v.map((x) => maskSecrets(x, marker));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x, marker)]));
    return v;
}

/** JSON with sorted keys: equal values give equal text. */
export function stableJson(v: unknown, indent?: number): string {
    const sort = (x: unknown): unknown => {
        if (Array.isArray(x)) return x.map(sort);
        if (x !== null && typeof x === "object")
            return Object.fromEntries(
                Object.keys(x)
                    .sort()
                    .map((k) => [k, sort((x as Record<string, unknown>)[k])]),
            );
        return x;
    };
    return JSON.stringify(sort(v), null, indent);
}

export class OfflineEngine implements pulumi.runtime.Mocks {
    readonly resources: ResourceRecord[] = [];
    readonly state: Map<string, StateEntry>;
    private pending = 0;

    constructor(
        state: Record<string, StateEntry> = {},
        private readonly project = "registry-kit",
        private readonly stack = "dev",
    ) {
        this.state = new Map(Object.entries(state));
    }

    /** Inputs as serialised on the wire, keyed by type and name: nested secrets still nested. */
    private readonly wireInputs = new Map<string, Record<string, unknown>>();
    private readonly options = new Map<string, ResourceOptionsRecord>();

    /** Installs the engine as Pulumi's mocks for this process. */
    async install(): Promise<void> {
        await pulumi.runtime.setMocks(this, this.project, this.stack, false);
        // `newResource` gets neither the options nor the inputs' exact secrecy: read them off the registration.
        onRegisterResource((r) => {
            const key = `${r.type}::${r.name}`;
            this.wireInputs.set(key, r.wireInputs);
            this.options.set(key, {
                retainOnDelete: r.retainOnDelete,
                deleteBeforeReplace: r.deleteBeforeReplace,
                additionalSecretOutputs: r.additionalSecretOutputs,
                replaceOnChanges: r.replaceOnChanges,
                dependsOn: [...new Set(r.dependencies.map((urn) => urn.split("::").pop()!))].sort(),
                ...(r.createTimeout ? { createTimeout: r.createTimeout } : {}),
            });
        });
    }

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> {
        this.pending++;
        try {
            const inputs = this.wireInputs.get(`${args.type}::${args.name}`) ?? ((args.inputs ?? {}) as Record<string, unknown>);
            const plain = unwrapSecrets(inputs) as Record<string, any>;
            const urn = `${args.type}::${args.name}`;
            const inputsHash = stableJson(plain);
            const previous = this.state.get(urn);
            const generated = previous && previous.inputsHash === inputsHash ? previous.outputs : await this.generate(args.type, args.name, plain);
            this.state.set(urn, { inputsHash, outputs: generated });
            // Outputs are what the provider stores after its create: inputs as Docker reports them back.
            const outputs = { ...readBack(args.type, plain), ...generated };
            const options = this.options.get(urn) ?? {
                retainOnDelete: false,
                deleteBeforeReplace: false,
                additionalSecretOutputs: [],
                replaceOnChanges: [],
                dependsOn: [],
            };
            this.resources.push({
                urn,
                type: args.type,
                name: args.name,
                custom: args.custom ?? true,
                inputs,
                outputs,
                options,
                provider: args.provider || undefined,
            });
            // Provider SDKs list their secret outputs in additionalSecretOutputs; the engine honours it.
            const secretFields = options.additionalSecretOutputs;
            const answer: Record<string, unknown> = {};
            for (const [k, v] of Object.entries(outputs)) answer[k] = secretFields.includes(k) ? pulumi.secret(v) : v;
            // Secret inputs stay secret in the answer, as the engine does for real providers.
            for (const [k, v] of Object.entries(inputs)) if (isSecretWrapper(v)) answer[k] = pulumi.secret(unwrapSecrets(v));
            return { id: String(generated.id ?? `${args.name}-id`), state: answer };
        } finally {
            this.pending--;
        }
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        throw new Error(`offline engine: function ${args.token} is not supported`);
    }

    /** Waits until no resource registration has been in flight for a few event-loop turns. */
    async settle(timeoutMs = 30000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        let quiet = 0;
        let seen = -1;
        while (quiet < 5) {
            if (Date.now() > deadline) throw new Error("offline engine: resources still registering after the timeout");
            await new Promise((r) => setTimeout(r, 20));
            if (this.pending === 0 && this.resources.length === seen) quiet++;
            else quiet = 0;
            seen = this.resources.length;
        }
    }

    /** The values a provider would compute for a new resource. */
    private async generate(type: string, name: string, inputs: Record<string, any>): Promise<Record<string, unknown>> {
        switch (type) {
            case "random:index/randomPassword:RandomPassword": {
                const result = randomPassword(inputs as { length: number });
                return { id: "none", result, bcryptHash: bcrypt.hashSync(result, 10) };
            }
            case "tls:index/privateKey:PrivateKey":
                return { id: `${name}-key`, ...generatePrivateKey(inputs.algorithm, inputs.ecdsaCurve, inputs.rsaBits) };
            case "tls:index/selfSignedCert:SelfSignedCert":
                return { id: `${name}-cert`, ...(await selfSignedCert(inputs as any)) };
            case "tls:index/certRequest:CertRequest":
                return { id: `${name}-csr`, ...(await certRequest(inputs as any)) };
            case "tls:index/locallySignedCert:LocallySignedCert":
                return { id: `${name}-cert`, ...(await locallySignedCert(inputs as any)) };
            case "aws:iam/accessKey:AccessKey":
                // What AWS issues: a 20-character id and a 40-character secret; the SDK marks `secret` a secret output.
                return {
                    id: `AKIA${randomPassword({ length: 16, lower: false, special: false })}`,
                    secret: randomPassword({ length: 40, special: true, overrideSpecial: "+/" }),
                    status: "Active",
                    user: inputs.user,
                };
            case "command:local:Command":
            case "command:remote:Command":
                // Offline nothing runs: the command's output is empty.
                return { id: `${name}-id`, stdout: "", stderr: "" };
            case "docker:index/remoteImage:RemoteImage":
                return { id: `${inputs.name}`, imageId: inputs.name, repoDigest: "" };
            case "docker:index/network:Network":
                // Docker assigns a subnet when none is asked for; offline, a fixed stand-in.
                return {
                    id: `${inputs.name ?? name}-id`,
                    name: inputs.name ?? name,
                    ...(inputs.ipamConfigs ? {} : { ipamConfigs: [{ subnet: "172.31.0.0/16", gateway: "172.31.0.1" }] }),
                };
            case "docker:index/volume:Volume":
                return { id: `${inputs.name ?? name}-id`, name: inputs.name ?? name };
            case "docker:index/container:Container":
                // An attached container has run to its end: offline it succeeded, without output.
                return {
                    id: `${inputs.name ?? name}-id`,
                    name: inputs.name ?? name,
                    ...(inputs.attach ? { exitCode: 0, ...(inputs.logs ? { containerLogs: "" } : {}) } : {}),
                };
            default:
                return { id: `${name}-id` };
        }
    }
}
