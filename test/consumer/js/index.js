// A plain JavaScript consumer (runtime.options.typescript: false): the README example with require().
"use strict";
const docker = require("@pulumi/docker");
const { Certificates, Htpasswd, Registry, TlsProxy } = require("registry-kit");

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

exports.registryAddress = registry.address;
