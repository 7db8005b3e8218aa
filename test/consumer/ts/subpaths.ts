// registry-kit/aws and registry-kit/renderers, which the older commonjs tsconfig resolves through typesVersions.
import { S3Bucket, Storage } from "registry-kit/aws";
import { renderNginxConf } from "registry-kit/renderers";

export const components: [typeof S3Bucket, typeof Storage] = [S3Bucket, Storage];
export const render: typeof renderNginxConf = renderNginxConf;
