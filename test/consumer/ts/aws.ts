// A consumer of the subpaths: S3 storage from registry-kit/aws, the settings parser from registry-kit/stacks.
import { S3Bucket } from "registry-kit/aws";
import { parseSettings } from "registry-kit/stacks";
import { renderNginxConf } from "registry-kit/renderers";

const settings = parseSettings({ hostname: "registry.example.com" });
export const bucket = new S3Bucket("images", { bucket: "acme-images", region: "eu-west-1" }).bucketName;
export const topology: string = settings.topology;
export const render: typeof renderNginxConf = renderNginxConf;
