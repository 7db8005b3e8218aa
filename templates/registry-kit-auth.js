// registry-kit's njs module for the TLS proxy (nginx's ngx_http_js_module): the verdict cache's key, the
// per-user permission check and the token subject for the access log. Written for njs 0.7.9 (Debian
// bookworm) and 0.8.x (the official nginx image): ES5 plus let/const, no shared dict, no state kept
// between requests. The pure functions take every input as an argument, so plain node runs them too
// (test/unit/auth-njs.test.ts).
import crypto from "crypto";

// Replaced by the renderer (renderers/nginx-auth.ts) with { user: [{ repositories, actions }] }.
var ACCESS = /*REGISTRY_KIT_ACCESS*/ {};
// Replaced with REGISTRY_VERIFY_SUFFIX (primitives/registry.ts): the name a user's own password has at the registry.
var VERIFY_SUFFIX = /*REGISTRY_KIT_VERIFY_SUFFIX*/ "";

// The verdict cache's key: HMAC-SHA256 of the whole Authorization header under the deployment's secret
// key. The cache (and its files, which hold the key in their header) never sees the credential itself.
function credentialKey(secret, authorization) {
    return crypto
        .createHmac("sha256", secret)
        .update(authorization || "")
        .digest("hex");
}

// Distribution's routes: what a request does, and to which repository.
var ROUTES = [
    /^\/v2\/(.+)\/(?:manifests|referrers)\/[^\/]+$/,
    /^\/v2\/(.+)\/blobs\/uploads\/[^\/]*$/,
    /^\/v2\/(.+)\/blobs\/[^\/]+$/,
    /^\/v2\/(.+)\/tags\/list$/,
];
var ACTIONS = { GET: "pull", HEAD: "pull", OPTIONS: "pull", POST: "push", PUT: "push", PATCH: "push", DELETE: "delete" };
var NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

// { kind: "ping" | "catalog" | "repository" | "other", action, repository }
function requestAction(method, uri) {
    var action = ACTIONS[method];
    if (uri === "/v2/" || uri === "/v2") return { kind: "ping", action: action, repository: "" };
    if (uri === "/v2/_catalog") return { kind: "catalog", action: method === "GET" || method === "HEAD" ? "catalog" : action, repository: "" };
    for (var i = 0; i < ROUTES.length; i++) {
        var m = ROUTES[i].exec(uri);
        if (m && NAME.test(m[1])) return { kind: "repository", action: action, repository: m[1] };
    }
    return { kind: "other", action: action, repository: "" };
}

// A pattern's components, `/`-separated: `**` is one or more whole components; in any other component
// `*` is any run of characters but `/`; everything else is literal.
function patternMatches(pattern, name) {
    var parts = pattern.split("/");
    var source = [];
    for (var i = 0; i < parts.length; i++) {
        source.push(parts[i] === "**" ? "[^\\/]+(?:\\/[^\\/]+)*" : parts[i].replace(/[.+?^${}()|[\]\\-]/g, "\\$&").replace(/\*/g, "[^\\/]*"));
    }
    return new RegExp("^" + source.join("\\/") + "$").test(name);
}

// Whether `user`'s access list (ACCESS's shape) allows the request. Any valid user may ping /v2/.
function permitted(access, user, method, uri) {
    var rules = Object.prototype.hasOwnProperty.call(access, user) ? access[user] : null;
    if (!rules) return false;
    var what = requestAction(method, uri);
    if (what.kind === "ping") return true;
    if (!what.action) return false;
    for (var i = 0; i < rules.length; i++) {
        var rule = rules[i];
        if (rule.actions.indexOf(what.action) < 0) continue;
        if (what.kind === "catalog") return true;
        for (var j = 0; j < rule.repositories.length; j++) {
            var pattern = rule.repositories[j];
            // Paths that are no Distribution route reach the registry only for users with every repository.
            if (what.kind === "other" ? pattern === "**" : patternMatches(pattern, what.repository)) return true;
        }
    }
    return false;
}

// The `sub` claim of a Bearer JWT, for the access log only (the registry verifies the token); "" when
// there is none. Never the token itself.
function tokenSubject(authorization) {
    var m = /^Bearer\s+[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/.exec(authorization || "");
    if (!m) return "";
    try {
        var claims = JSON.parse(Buffer.from(m[1], "base64url").toString());
        var sub = claims && typeof claims.sub === "string" ? claims.sub : "";
        return sub.replace(/[^\x20-\x7e]/g, "?").slice(0, 128);
    } catch (e) {
        return "";
    }
}

// The client's Basic credentials as the verification asks the registry: the same password, under the
// user's verification name. "" (no header sent, so the registry answers 401) for anything else.
function verifyAuthorization(authorization, suffix) {
    var m = /^Basic\s+([A-Za-z0-9+\/]+=*)$/i.exec(authorization || "");
    if (!m) return "";
    var plain = Buffer.from(m[1], "base64").toString();
    var colon = plain.indexOf(":");
    if (colon < 1) return "";
    return "Basic " + Buffer.from(plain.slice(0, colon) + suffix + plain.slice(colon)).toString("base64");
}

// What the proxy sends on for a verified user: the user's name with the password derived for it
// (renderers/htpasswd.ts, proxiedPassword), so the registry's logs and events still name the user.
function upstreamAuthorization(secret, user) {
    var password = crypto
        .createHmac("sha256", secret)
        .update("registry-kit-proxy:" + user)
        .digest("hex");
    return "Basic " + Buffer.from(user + ":" + password).toString("base64");
}

// ---- nginx handlers ----

// js_set $registry_kit_verdict_key.
function verdictKey(r) {
    return credentialKey(r.variables.registry_kit_verdict_secret, r.headersIn.Authorization);
}

// js_set $registry_kit_verify_authorization.
function verifyHeader(r) {
    return verifyAuthorization(r.headersIn.Authorization, VERIFY_SUFFIX);
}

// js_set $registry_kit_upstream_authorization (used only after the check allowed the request).
function upstreamHeader(r) {
    return upstreamAuthorization(r.variables.registry_kit_proxy_secret, r.variables.remote_user || "");
}

// js_set $registry_kit_token_subject.
function logSubject(r) {
    return tokenSubject(r.headersIn.Authorization);
}

// The raw path, as the registry will read it, must be the path nginx normalised and we check: no dot
// segments, merged slashes or other spellings that would name another repository upstream.
function samePath(requestUri, uri) {
    var raw = (requestUri || "").split("?")[0];
    try {
        return decodeURIComponent(raw) === uri;
    } catch (e) {
        return false;
    }
}

// js_content of the auth_request location: the credentials by the (cached) verification subrequest,
// then the user's permission for this method and path. 204 allows; 401 carries the registry's challenge.
// This runs in auth_request's subrequest (method GET, its own URI): the client's method is
// $request_method, its path $registry_kit_uri (set in the API location; subrequests share variables).
function authorize(r) {
    r.subrequest("/_registry_kit_verify", { method: "GET" }, function (reply) {
        if (reply.status === 200) {
            var v = r.variables;
            var ok = samePath(v.request_uri, v.registry_kit_uri) && permitted(ACCESS, v.remote_user || "", v.request_method, v.registry_kit_uri);
            r.return(ok ? 204 : 403);
            return;
        }
        if (reply.status === 401) {
            var challenge = reply.headersOut["WWW-Authenticate"];
            if (challenge) r.headersOut["WWW-Authenticate"] = challenge;
            r.return(401);
            return;
        }
        r.error("registry-kit: credential check answered " + reply.status);
        r.return(500);
    });
}

export default {
    credentialKey: credentialKey,
    requestAction: requestAction,
    patternMatches: patternMatches,
    permitted: permitted,
    samePath: samePath,
    tokenSubject: tokenSubject,
    verifyAuthorization: verifyAuthorization,
    upstreamAuthorization: upstreamAuthorization,
    verifyHeader: verifyHeader,
    upstreamHeader: upstreamHeader,
    verdictKey: verdictKey,
    logSubject: logSubject,
    authorize: authorize,
};
