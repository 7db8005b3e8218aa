/**
 * offline/sdk-internals.ts against the installed Pulumi SDK: a registration decoded from the mock
 * monitor's request carries exactly the options, dependencies and nested secrets the offline engine
 * needs, and Pulumi's public mock hook still does not (which is why the file exists). A failure here
 * means the SDK changed: update offline/sdk-internals.ts, or drop it if the public hooks now suffice.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { onRegisterResource, Registration } from "../../offline/sdk-internals";

const registrations: Registration[] = [];
class Resource extends pulumi.CustomResource {
    constructor(type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
        super(type, name, props, opts);
    }
}
const mockInputs = new Map<string, Record<string, unknown>>();

/** Resolves with the registration of `name`, or fails after a timeout instead of hanging. */
function registered(name: string, timeoutMs = 10_000): Promise<Registration> {
    return new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const poll = () => {
            const r = registrations.find((x) => x.name === name);
            if (r && mockInputs.has(name)) resolve(r);
            else if (Date.now() > deadline) reject(new Error(`no registration of ${name}`));
            else setTimeout(poll, 10);
        };
        poll();
    });
}

beforeAll(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                mockInputs.set(args.name, args.inputs);
                return { id: `${args.name}-id`, state: { ...args.inputs, out: "o" } };
            },
            call: () => ({}),
        },
        "registry-kit",
        "sdk-internals",
        false,
    );
    onRegisterResource((r) => registrations.push(r));
    const other = new Resource("test:index:Other", "other", { value: "v" });
    const wanted = new Resource("test:index:Thing", "thing", {});
    new Resource(
        "test:index:Upload",
        "upload",
        {
            uploads: [
                { file: "/etc/a", content: pulumi.secret("s3cret") },
                { file: "/etc/b", content: "plain" },
            ],
            from: other.id,
        },
        {
            retainOnDelete: true,
            deleteBeforeReplace: true,
            additionalSecretOutputs: ["out"],
            replaceOnChanges: ["uploads[*]"],
            dependsOn: [wanted],
            customTimeouts: { create: "25m" },
        },
    );
});

describe("the mock monitor's registrations", () => {
    it("carry the options, the dependencies (dependsOn and inputs) and each secret where it stands", async () => {
        const r = await registered("upload");
        const secret = { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: "s3cret" };
        expect(r).toEqual({
            type: "test:index:Upload",
            name: "upload",
            wireInputs: {
                uploads: [
                    { file: "/etc/a", content: secret },
                    { file: "/etc/b", content: "plain" },
                ],
                from: "other-id",
            },
            retainOnDelete: true,
            deleteBeforeReplace: true,
            additionalSecretOutputs: ["out"],
            replaceOnChanges: ["uploads[*]"],
            dependencies: expect.arrayContaining([expect.stringMatching(/::thing$/), expect.stringMatching(/::other$/)]),
            createTimeout: "25m",
        });
        expect(r.dependencies).toHaveLength(2);
    });

    it("and a registration without options has their defaults", async () => {
        const r = await registered("other");
        expect(r).toEqual({
            type: "test:index:Other",
            name: "other",
            wireInputs: { value: "v" },
            retainOnDelete: false,
            deleteBeforeReplace: false,
            additionalSecretOutputs: [],
            replaceOnChanges: [],
            dependencies: [],
        });
    });

    it("are still needed: the public newResource hook sees the nested secret lifted to the whole list", async () => {
        await registered("upload");
        const inputs = mockInputs.get("upload")!;
        expect(inputs.uploads).toEqual({
            [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
            value: [
                { file: "/etc/a", content: "s3cret" },
                { file: "/etc/b", content: "plain" },
            ],
        });
    });
});
