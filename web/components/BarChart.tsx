// A small accessible SVG bar chart (no chart library: it would dwarf the page's JS).
export function BarChart({ title, points, format = String }: {
  title: string; points: { label: string; value: number }[]; format?: (v: number) => string;
}) {
  const max = Math.max(1, ...points.map((p) => p.value));
  const width = 600;
  const height = 160;
  const bar = points.length ? width / points.length : width;
  const total = points.reduce((sum, p) => sum + p.value, 0);
  return (
    <figure className="card">
      <figcaption className="mb-2 flex text-sm font-medium">
        {title}<span className="ml-auto text-slate-600">{format(total)} in all</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={`${title}: ${format(total)} over ${points.length} periods`} className="w-full">
        {points.map((p, i) => {
          const h = (p.value / max) * height;
          return (
            <g key={p.label}>
              <title>{`${p.label}: ${format(p.value)}`}</title>
              <rect x={i * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h} className="fill-indigo-500" />
            </g>
          );
        })}
        <line x1={0} y1={height} x2={width} y2={height} className="stroke-slate-300" />
        {points.length > 0 && (
          <>
            <text x={0} y={height + 15} className="fill-slate-600 text-[10px]">{points[0].label}</text>
            <text x={width} y={height + 15} textAnchor="end" className="fill-slate-600 text-[10px]">{points[points.length - 1].label}</text>
          </>
        )}
      </svg>
    </figure>
  );
}
