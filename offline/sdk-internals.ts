/**
 * The one place the offline engine relies on what the Pulumi SDK does not promise: the mock monitor's
 * `registerResource` and the protobuf request it receives. Pulumi's public mock hook (`newResource`)
 * gets the inputs after the mock monitor deserialised them, which lifts a secret nested in a list (one
 * upload's content) to the whole list, and it gets no resource options and no dependencies. The request
 * has all three. Resource transformations would give the options, but need a root stack resource, which
 * a program run under mocks without `runInPulumiStack` does not have, and they see neither the
 * dependencies that inputs carry nor resolved values.
 *
 * Everything here fails loudly when the SDK changes shape; test/unit/sdk-internals.test.ts pins it.
 */
import * as pulumi from "@pulumi/pulumi";

/** What a resource registration carried, decoded from the monitor's request. */
export interface Registration {
    type: string;
    name: string;
    /** Inputs in their wire form: each secret wrapped where it stands (`pulumi.runtime.specialSecretSig`). */
    wireInputs: Record<string, unknown>;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    additionalSecretOutputs: string[];
    replaceOnChanges: string[];
    /** URNs of the resources this one depends on: `dependsOn` and those its inputs came from. */
    dependencies: string[];
    /** `customTimeouts.create`, when set. */
    createTimeout?: string;
}

/** The protobuf getters of a RegisterResourceRequest that `decode` reads. */
const GETTERS = [
    "getType",
    "getName",
    "getObject",
    "getRetainondelete",
    "getDeletebeforereplace",
    "getAdditionalsecretoutputsList",
    "getReplaceonchangesList",
    "getDependenciesList",
    "getCustomtimeouts",
] as const;

function sdkChanged(what: string): Error {
    return new Error(`offline engine: the Pulumi SDK changed (${what}); update offline/sdk-internals.ts`);
}

/** A RegisterResourceRequest as plain values. */
export function decode(req: any): Registration {
    for (const getter of GETTERS) if (typeof req?.[getter] !== "function") throw sdkChanged(`RegisterResourceRequest has no ${getter}()`);
    const create = req.getCustomtimeouts()?.getCreate?.();
    return {
        type: req.getType(),
        name: req.getName(),
        wireInputs: req.getObject()?.toJavaScript() ?? {},
        retainOnDelete: req.getRetainondelete() === true,
        deleteBeforeReplace: req.getDeletebeforereplace() === true,
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        replaceOnChanges: req.getReplaceonchangesList(),
        dependencies: req.getDependenciesList(),
        ...(create ? { createTimeout: create } : {}),
    };
}

/** Calls `listener` with every registration, before the mock monitor answers it (after `setMocks`). */
export function onRegisterResource(listener: (registration: Registration) => void): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource?: (req: unknown, cb: unknown) => unknown } | undefined;
    if (typeof monitor?.registerResource !== "function") throw sdkChanged("the mock monitor has no registerResource");
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: unknown, cb: unknown) => {
        listener(decode(req));
        return register(req, cb);
    };
}
