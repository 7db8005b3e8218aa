/**
 * registry-kit's public API, the package root: the Docker components and the pure renderers. It loads
 * no cloud provider; `registry-kit/aws` adds the S3 components (@pulumi/aws), `registry-kit/stacks`
 * the topologies and settings behind the Pulumi program.
 */
export * from "./components/acme-certbot";
export * from "./components/alertmanager";
export * from "./components/certificates";
export * from "./components/harbor-installer";
export * from "./components/htpasswd";
export * from "./components/maintenance";
export * from "./components/minio";
export * from "./components/monitoring";
export * from "./components/redis";
export * from "./components/registry";
export * from "./components/swarm-common";
export * from "./components/swarm-monitoring";
export * from "./components/swarm-proxy";
export * from "./components/swarm-redis";
export * from "./components/swarm-registry";
export * from "./components/tls-proxy";
export * from "./components/volume-exporter";
export * from "./components/gitlab";
export * from "./components/token-signing-key";
export * from "./renderers";
