/**
 * Mustache templates from templates/, rendered without HTML escaping: these are config files, and
 * `&`, `<`, `"` must reach them as written. Values are validated by the caller.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Mustache from "mustache";

const TEMPLATE_DIR = path.join(__dirname, "..", "templates");
const cache = new Map<string, string>();

/** Renders `templates/<name>.mustache` with `view`; no value is escaped. */
export function renderTemplate(name: string, view: Record<string, unknown>): string {
    let text = cache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(TEMPLATE_DIR, `${name}.mustache`), "utf8");
        cache.set(name, text);
    }
    return Mustache.render(text, view, {}, { escape: (s: string) => s });
}
