import Link from "next/link";

export default function NotFound() {
  return (
    <div className="text-center">
      <h1 className="mb-2">Page not found</h1>
      <p><Link href="/">Back to the catalog</Link></p>
    </div>
  );
}
