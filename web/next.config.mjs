/** Static export: the local gateway (and an S3 bucket on AWS) serves web/out as files. */
const nextConfig = {
  output: "export",
  trailingSlash: true, // /login/ -> login/index.html: plain file servers find every page
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};
export default nextConfig;
