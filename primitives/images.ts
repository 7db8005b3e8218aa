/**
 * Docker's image reference grammar, and what an image's tag says about the registry it runs. The
 * bottom layer: imports nothing of registry-kit's.
 */
import { z } from "zod";

/*
 * Docker's image reference grammar, as distribution/reference (regexp.go, reference.go) and go-digest define it:
 * reference := [domain "/"] path [":" tag] ["@" digest]; domain := (domain-name | "[" IPv6 "]") [":" port], whose
 * components may have capitals; path components are lower case, joined by ".", "_", "__" or dashes; tag :=
 * [\w][\w.-]{0,127}; the path is at most 255 characters; go-digest knows sha256, sha384 and sha512, each with
 * exactly 64, 96 or 128 lower-case hex digits. Docker's CLI also refuses a bare 64-hex name (an image id).
 */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME_AND_TAG = new RegExp(`^(?:${DOMAIN}/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::[\\w][\\w.-]{0,127})?$`);
const DIGEST_HEX_DIGITS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const NOT_A_REFERENCE = "not an image reference";

/** Why Docker would refuse this image reference, or undefined. */
export function imageReferenceProblem(value: string): string | undefined {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return "no URL scheme (write registry.example.com/team/app:1, not https://...)";
    if (value.length > 1024) return NOT_A_REFERENCE;
    const [name, digest, ...more] = value.split("@");
    if (more.length > 0) return NOT_A_REFERENCE;
    const problem = (digest === undefined ? undefined : imageDigestProblem(digest)) ?? imageTagProblem(name);
    if (problem) return problem;
    const match = NAME_AND_TAG.exec(name);
    if (!match)
        return NAME_AND_TAG.test(name.toLowerCase()) ? "repository path components are lower case (only the registry host may have capitals)" : NOT_A_REFERENCE;
    if (match[1].length > 255) return "at most 255 characters in the repository path";
    if (/^[a-f0-9]{64}$/.test(value)) return "not a 64-hex-digit name (Docker takes it for an image id)";
    return undefined;
}

/** The tag after the last path component's ':', as Docker reads it. */
function imageTagProblem(name: string): string | undefined {
    const last = name.slice(name.lastIndexOf("/") + 1);
    const colon = last.indexOf(":");
    if (colon < 0) return undefined;
    if (colon === 0) return NOT_A_REFERENCE;
    const tag = last.slice(colon + 1);
    if (tag === "") return "the tag is empty";
    if (tag.includes(":")) return "one tag at most";
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return "a tag of letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 128 characters";
    return undefined;
}

/** An algorithm go-digest knows, with exactly its number of lower-case hex digits. */
function imageDigestProblem(digest: string): string | undefined {
    if (digest === "") return "the digest is empty";
    const match = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):(.*)$/.exec(digest);
    if (!match) return "a digest such as sha256:<64 lower-case hex digits>";
    const digits = DIGEST_HEX_DIGITS[match[1]];
    if (digits === undefined) return "a digest algorithm sha256, sha384 or sha512";
    return new RegExp(`^[a-f0-9]{${digits}}$`).test(match[2]) ? undefined : `a digest ${match[1]}:<${digits} lower-case hex digits>`;
}

export const image = z.string().superRefine((v, ctx) => {
    const problem = imageReferenceProblem(v);
    if (problem)
        ctx.addIssue({ code: "custom", message: `an image reference such as registry:3 (Docker's grammar: [host[:port]/]path[:tag][@digest]): ${problem}` });
});

/** The GitLab CE image we test the gitlab.rb against. */
export const GITLAB_IMAGE = "gitlab/gitlab-ce:19.4.1-ce.0";
