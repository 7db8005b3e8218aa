/**
 * What the catalog e2e tests do with the catalog page in Chromium: trust the stack's certificate by key,
 * sign in, and read what the page shows.
 */
import * as crypto from "node:crypto";
import { Page } from "./chromium";

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as --ignore-certificate-errors-spki-list takes it. */
export const spkiHash = (pem: string) =>
    crypto
        .createHash("sha256")
        .update(new crypto.X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }))
        .digest("base64");

export async function signIn(page: Page, user: string, pass: string): Promise<void> {
    await page.eval(`(() => {
        document.getElementById("user").value = ${JSON.stringify(user)};
        document.getElementById("password").value = ${JSON.stringify(pass)};
        document.getElementById("sign-in").requestSubmit();
    })()`);
}

/** Whether the sign-in form and the catalog are rendered (hidden, display: none and the like count as not). */
export const visible = `({ signIn: document.getElementById("sign-in").checkVisibility(), catalog: document.getElementById("catalog").checkVisibility() })`;

/** What the page shows: per repository, per tag the cells' text. */
export const table = (page: Page) =>
    page.eval<Record<string, Record<string, Record<string, string>>>>(`(() => {
        const out = {};
        for (const repo of document.querySelectorAll("#repositories [data-repository]")) {
            const tags = (out[repo.dataset.repository] = {});
            for (const row of repo.querySelectorAll("tr[data-tag]")) {
                const cell = (c) => row.querySelector("td." + c).textContent;
                tags[row.dataset.tag] = { digest: cell("digest"), platforms: [...row.querySelectorAll("td.platforms span")].map((s) => s.textContent).join(" "),
                    size: cell("size"), created: cell("created"), pull: cell("pull") };
            }
        }
        return out;
    })()`);
