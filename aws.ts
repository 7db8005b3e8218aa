/**
 * `registry-kit/aws`: the components that may create AWS resources, kept out of the package root so a
 * Docker-only stack never loads @pulumi/aws. `Storage` is here because its `s3` type creates a bucket.
 */
export * from "./components/s3-bucket";
export * from "./components/storage";
