// Must not compile: proves the type check runs (replicas is a number).
import { Registry } from "registry-kit";

new Registry("reg", { networkName: "net", htpasswd: "x", replicas: "two" });
