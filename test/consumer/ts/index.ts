// The README's "Using the components in your own stack" example, as a consumer's program.
import * as docker from "@pulumi/docker";
import { Certificates, Htpasswd, Registry, TlsProxy } from "registry-kit";

const net = new docker.Network("reg-net", { name: "reg-net" });
const certs = new Certificates("reg-tls", { hostname: "registry.example.com" });
const users = new Htpasswd("reg-users", {});
const registry = new Registry("reg", { networkName: net.name, htpasswd: users.content });
new TlsProxy("reg-proxy", {
    networkName: net.name,
    hostname: "registry.example.com",
    upstream: registry.address,
    certificatePem: certs.certificatePem,
    privateKeyPem: certs.privateKeyPem,
});

export const registryAddress = registry.address;
