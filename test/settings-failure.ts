/**
 * For settings tests: the message a refused stack configuration fails with.
 */
import { expect } from "vitest";
import { ConfigError, parseSettings } from "../stacks/config";

/** Parses `raw` (with `secretKeys` held as secrets, for stack `stack`) and returns the ConfigError's message; fails the test if accepted. */
export function settingsFailure(raw: Record<string, unknown>, secretKeys: string[], stack?: string): string {
    try {
        parseSettings(raw, secretKeys, { stack });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
    }
    throw new Error("expected the settings to be refused");
}
