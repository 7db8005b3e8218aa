/**
 * Mustache templates from templates/, rendered without HTML escaping: these are config files, and
 * `&`, `<`, `"` must reach them as written. Values are validated by the caller.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Mustache from "mustache";

const TEMPLATE_DIR = path.join(__dirname, "..", "templates");
const cache = new Map<string, string>();

/** The text of a file in templates/ (a static script, or a mustache template). */
export function templateText(file: string): string {
    let text = cache.get(file);
    if (text === undefined) {
        text = fs.readFileSync(path.join(TEMPLATE_DIR, file), "utf8");
        cache.set(file, text);
    }
    return text;
}

/** Renders `templates/<name>.mustache` with `view`; no value is escaped. */
export function renderTemplate(name: string, view: Record<string, unknown>): string {
    return Mustache.render(templateText(`${name}.mustache`), view, {}, { escape: (s: string) => s });
}
