// The registry-kit catalog page: lists repositories, tags, digests, sizes, creation dates and platforms
// through the Registry API (/v2/) with the signed-in user's Basic credentials, held in memory only.
// Vanilla JavaScript, no external requests: the Content-Security-Policy allows only this origin.
"use strict";

(() => {
    // Requests carrying this header get no WWW-Authenticate on a 401 (the proxy drops it): no browser dialog.
    const MARKER = { "X-Registry-Kit-Catalog": "1" };
    const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
    const IMAGE_TYPES = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];
    const ACCEPT = [...INDEX_TYPES, ...IMAGE_TYPES].join(", ");
    const PAGE = 100;
    const PARALLEL = 4;

    /** config.json next to this page: { registry: base URL ("" = this origin), pullHost, delete }. */
    let config = { registry: "", pullHost: location.host, delete: false };
    let auth = null;
    let repositories = [];
    const $ = (id) => document.getElementById(id);

    class SignInError extends Error {}

    function el(tag, props = {}, ...children) {
        const node = document.createElement(tag);
        for (const [k, v] of Object.entries(props)) {
            if (k === "className") node.className = v;
            else if (k === "dataset") Object.assign(node.dataset, v);
            else node.setAttribute(k, v);
        }
        for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
        return node;
    }

    function basic(user, password) {
        const bytes = new TextEncoder().encode(`${user}:${password}`);
        let bin = "";
        for (const b of bytes) bin += String.fromCharCode(b);
        return `Basic ${btoa(bin)}`;
    }

    async function api(path, { method = "GET", accept, missingOk = false } = {}) {
        const headers = { ...MARKER, Authorization: auth };
        if (accept) headers.Accept = accept;
        const res = await fetch(config.registry + path, { method, headers, cache: "no-store", credentials: "omit", redirect: "follow" });
        if (res.status === 401) throw new SignInError("the registry refused these credentials");
        if (res.status === 404 && missingOk) return null;
        if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
        return res;
    }

    /** Follows the registry's `Link: <...>; rel="next"` pages. */
    async function paged(path, key) {
        const out = [];
        let next = `${path}?n=${PAGE}`;
        while (next) {
            const res = await api(next);
            const body = await res.json();
            out.push(...(body[key] || []));
            const link = res.headers.get("Link");
            const m = link && /<([^>]+)>;\s*rel="?next"?/.exec(link);
            next = m ? m[1].replace(/^https?:\/\/[^/]+/, "") : null;
        }
        return out;
    }

    async function pool(items, fn) {
        const results = new Array(items.length);
        let i = 0;
        const worker = async () => {
            while (i < items.length) {
                const at = i++;
                results[at] = await fn(items[at], at);
            }
        };
        await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
        return results;
    }

    async function sha256(buffer) {
        const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
        return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    }

    async function manifest(repo, reference) {
        const res = await api(`/v2/${repo}/manifests/${encodeURIComponent(reference)}`, { accept: ACCEPT });
        const bytes = await res.arrayBuffer();
        const body = JSON.parse(new TextDecoder().decode(bytes));
        const mediaType = body.mediaType || (res.headers.get("Content-Type") || "").split(";")[0];
        return { digest: res.headers.get("Docker-Content-Digest") || (await sha256(bytes)), bytes: bytes.byteLength, body, mediaType };
    }

    const platformName = (p) => (p ? [p.os, p.architecture, p.variant].filter(Boolean).join("/") : "unknown");

    /** An image manifest's size (manifest, config and layers), platform and creation time (from its config). */
    async function image(repo, m) {
        const layers = (m.body.layers || []).reduce((sum, l) => sum + (l.size || 0), 0);
        let created;
        let platform;
        try {
            const res = await api(`/v2/${repo}/blobs/${m.body.config.digest}`);
            const cfg = await res.json();
            created = cfg.created;
            platform = platformName(cfg);
        } catch (e) {
            if (e instanceof SignInError) throw e;
        }
        return { size: m.bytes + (m.body.config ? m.body.config.size : 0) + layers, created, platforms: platform ? [platform] : [] };
    }

    async function tagDetails(repo, tag) {
        const m = await manifest(repo, tag);
        if (INDEX_TYPES.includes(m.mediaType)) {
            // Attestations (BuildKit's provenance) are children of an index too, but not platforms.
            const children = (m.body.manifests || []).filter((c) => !(c.annotations && c.annotations["vnd.docker.reference.type"]));
            const parts = await pool(children, async (c) => ({
                ...(await image(repo, await manifest(repo, c.digest))),
                platforms: [platformName(c.platform)],
            }));
            const created = parts
                .map((p) => p.created)
                .filter(Boolean)
                .sort()
                .pop();
            return {
                tag,
                digest: m.digest,
                index: true,
                size: m.bytes + parts.reduce((s, p) => s + p.size, 0),
                created,
                platforms: parts.flatMap((p) => p.platforms),
            };
        }
        return { tag, digest: m.digest, index: false, ...(await image(repo, m)) };
    }

    function humanSize(bytes) {
        const units = ["B", "KiB", "MiB", "GiB", "TiB"];
        let v = bytes;
        let u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
    }

    function showError(id, message) {
        const node = $(id);
        node.textContent = message;
        node.hidden = !message;
    }

    function setSignedIn(user) {
        $("sign-in").hidden = !!user;
        $("catalog").hidden = !user;
        $("session").hidden = !user;
        $("session-user").textContent = user || "";
        if (!user) {
            auth = null;
            repositories = [];
            $("repositories").replaceChildren();
        }
    }

    async function load() {
        $("status").textContent = "loading…";
        showError("catalog-error", "");
        try {
            const names = await paged("/v2/_catalog", "repositories");
            repositories = await pool(names, async (name) => {
                const tags = (await paged(`/v2/${name}/tags/list`, "tags")).sort();
                return { name, tags: await pool(tags, (t) => tagDetails(name, t)) };
            });
            render();
            $("status").textContent = `${repositories.length} repositories`;
        } catch (e) {
            $("status").textContent = "";
            if (e instanceof SignInError) {
                setSignedIn(null);
                showError("sign-in-error", "Signed out: the registry no longer accepts these credentials.");
            } else {
                showError("catalog-error", `Could not load the catalog: ${e.message}`);
            }
        }
    }

    async function remove(repo, t) {
        const others = repositories
            .find((r) => r.name === repo)
            .tags.filter((x) => x.digest === t.digest && x.tag !== t.tag)
            .map((x) => x.tag);
        const also = others.length ? ` It also removes the tags ${others.join(", ")}, which point at the same manifest.` : "";
        if (!window.confirm(`Delete ${repo}:${t.tag} (${t.digest})?${also} Blobs are freed by the next garbage collection.`)) return;
        try {
            await api(`/v2/${repo}/manifests/${t.digest}`, { method: "DELETE" });
        } catch (e) {
            showError("catalog-error", `Could not delete ${repo}:${t.tag}: ${e.message}`);
            return;
        }
        await load();
    }

    function render() {
        const filter = $("filter").value.trim().toLowerCase();
        const list = $("repositories");
        list.replaceChildren();
        for (const repo of repositories) {
            const repoMatch = repo.name.toLowerCase().includes(filter);
            const tags = repo.tags.filter((t) => repoMatch || t.tag.toLowerCase().includes(filter) || t.digest.includes(filter));
            if (filter && tags.length === 0) continue;
            const head = el("tr", {}, ...["Tag", "Digest", "Platforms", "Size", "Created", "Pull", ...(config.delete ? [""] : [])].map((h) => el("th", {}, h)));
            const rows = tags.map((t) => {
                const pull = `docker pull ${config.pullHost}/${repo.name}:${t.tag}`;
                const cells = [
                    el("td", { className: "tag" }, t.tag),
                    el("td", { className: "digest" }, el("code", { title: t.digest }, t.digest)),
                    el("td", { className: "platforms" }, ...t.platforms.map((p) => el("span", {}, p))),
                    el("td", { className: "size" }, humanSize(t.size)),
                    el(
                        "td",
                        { className: "created" },
                        t.created
                            ? new Date(t.created)
                                  .toISOString()
                                  .replace("T", " ")
                                  .replace(/\.\d+Z$/, "Z")
                            : "–",
                    ),
                    el("td", { className: "pull" }, el("code", {}, pull)),
                ];
                if (config.delete) {
                    const button = el("button", { type: "button", className: "delete" }, "Delete");
                    button.addEventListener("click", () => remove(repo.name, t));
                    cells.push(el("td", {}, button));
                }
                return el("tr", { dataset: { tag: t.tag } }, ...cells);
            });
            const body = rows.length ? rows : [el("tr", {}, el("td", { colspan: "6" }, "no tags"))];
            list.append(
                el(
                    "section",
                    { className: "repository", dataset: { repository: repo.name } },
                    el("h2", {}, repo.name, " ", el("span", { className: "count" }, `(${repo.tags.length} tag${repo.tags.length === 1 ? "" : "s"})`)),
                    el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)),
                ),
            );
        }
    }

    async function signIn(event) {
        event.preventDefault();
        const user = $("user").value;
        showError("sign-in-error", "");
        auth = basic(user, $("password").value);
        try {
            await api("/v2/");
        } catch (e) {
            auth = null;
            showError("sign-in-error", e instanceof SignInError ? "Wrong user name or password." : `The registry did not answer: ${e.message}`);
            return;
        }
        $("password").value = "";
        setSignedIn(user);
        await load();
    }

    async function start() {
        try {
            const res = await fetch("config.json", { cache: "no-store" });
            if (res.ok) config = { ...config, ...(await res.json()) };
        } catch {
            // No config.json: this origin's registry, nothing to delete.
        }
        $("registry-host").textContent = config.pullHost;
        $("sign-in").addEventListener("submit", signIn);
        $("sign-out").addEventListener("click", () => setSignedIn(null));
        $("reload").addEventListener("click", load);
        $("filter").addEventListener("input", render);
        document.body.dataset.ready = "true";
    }

    start();
})();
