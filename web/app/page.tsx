"use client";
// The catalog: search with debounced suggestions, filters, infinite scroll over the cursor.
import { useCallback, useEffect, useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { api, type Course, type Page, type SearchHit } from "@/lib/api";
import { useDebounced } from "@/lib/hooks";
import { CourseCard } from "@/components/CourseCard";
import { CATEGORIES, ErrorBox, LANGUAGES, LEVELS, Loading, Select } from "@/components/ui";

type Filters = { category: string; level: string; language: string; price: string };
const NO_FILTERS: Filters = { category: "", level: "", language: "", price: "" };
type Row = { course: Course; highlight?: string };

export default function CatalogPage() {
  const router = useRouter();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [rows, setRows] = useState<Row[]>([]);
  // The next page's cursor with the generation (query and filters) it belongs to: in the
  // render where the query changes, the old cursor is still in state; the sentinel must not
  // ask the new query for it (the API refuses a cursor of another query with 400).
  const [cursor, setCursor] = useState<{ value: string; generation: number } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [loadedOnce, setLoadedOnce] = useState(false);
  const generation = useRef(0); // answers of a superseded query are dropped

  const fetchPage = useCallback(
    async (after: string | null) => {
      const mine = generation.current;
      setLoading(true);
      setError(null);
      try {
        const common = { ...filters, cursor: after, limit: 24 };
        let next: Row[];
        let nextCursor: string | null | undefined;
        if (query) {
          const page = await api<Page<SearchHit>>("/search", { query: { ...common, q: query } });
          next = page.items.map((hit) => ({ course: hit.course, highlight: hit.highlight }));
          nextCursor = page.next_cursor;
        } else {
          const page = await api<Page<Course>>("/courses", { query: common });
          next = page.items.map((course) => ({ course }));
          nextCursor = page.next_cursor;
        }
        if (mine !== generation.current) return;
        setRows((old) => (after ? [...old, ...next] : next));
        setCursor(nextCursor ? { value: nextCursor, generation: mine } : null);
        setLoadedOnce(true);
      } catch (err) {
        if (mine === generation.current) setError(err);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [filters, query],
  );

  useEffect(() => {
    generation.current += 1;
    setRows([]);
    setCursor(null);
    void fetchPage(null);
  }, [fetchPage]);

  // Infinite scroll: the sentinel below the list asks for the next page when it shows.
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !cursor || cursor.generation !== generation.current || loading || error) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && cursor.generation === generation.current) {
        void fetchPage(cursor.value);
      }
    }, { rootMargin: "400px" });
    observer.observe(node);
    return () => observer.disconnect();
  }, [cursor, loading, error, fetchPage]);

  // Suggestions while typing (debounced; an empty box shows none).
  const typed = useDebounced(text.trim(), 250);
  const [suggestions, setSuggestions] = useState<Course[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  useEffect(() => {
    if (typed.length < 2 || typed === query) {
      setSuggestions([]);
      return;
    }
    let cancelled = false;
    api<Page<SearchHit>>("/search", { query: { q: typed, limit: 6 } })
      .then((page) => {
        if (!cancelled) {
          setSuggestions(page.items.map((h) => h.course));
          setActive(-1);
        }
      })
      .catch(() => !cancelled && setSuggestions([]));
    return () => {
      cancelled = true;
    };
  }, [typed, query]);

  const submit = (value: string) => {
    setOpen(false);
    setQuery(value.trim());
  };
  const setFilter = (name: keyof Filters) => (e: React.ChangeEvent<HTMLSelectElement>) =>
    setFilters((f) => ({ ...f, [name]: e.target.value }));
  const showSuggestions = open && suggestions.length > 0;

  return (
    <div>
      <h1 className="mb-4">Find your next course</h1>
      <form
        role="search"
        className="relative mb-4 flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (active >= 0 && suggestions[active]) {
            router.push(`/course/?id=${encodeURIComponent(suggestions[active].id)}`);
          } else submit(text);
        }}
      >
        <label htmlFor="q" className="sr-only">Search courses</label>
        <input
          id="q"
          type="search"
          className="input"
          placeholder="Search courses, e.g. python, kubernetes, watercolor"
          autoComplete="off"
          role="combobox"
          aria-expanded={showSuggestions}
          aria-controls="suggestions"
          aria-autocomplete="list"
          aria-activedescendant={active >= 0 ? `suggestion-${active}` : undefined}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
            if (!e.target.value) submit("");
          }}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") {
              e.preventDefault();
              setOpen(true);
              setActive((i) => Math.min(i + 1, suggestions.length - 1));
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              setActive((i) => Math.max(i - 1, -1));
            } else if (e.key === "Escape") setOpen(false);
          }}
        />
        <button type="submit" className="btn">Search</button>
        {showSuggestions && (
          <ul id="suggestions" role="listbox" aria-label="Suggestions"
              className="absolute top-full z-10 mt-1 w-full rounded-md border border-slate-200 bg-white shadow-lg">
            {suggestions.map((course, i) => (
              <li
                key={course.id}
                id={`suggestion-${i}`}
                role="option"
                aria-selected={i === active}
                className={`cursor-pointer px-3 py-2 text-sm ${i === active ? "bg-indigo-50" : ""}`}
                onMouseDown={(e) => {
                  e.preventDefault();
                  router.push(`/course/?id=${encodeURIComponent(course.id)}`);
                }}
              >
                {course.title}
              </li>
            ))}
          </ul>
        )}
      </form>

      <fieldset className="mb-4 grid grid-cols-2 gap-3 sm:grid-cols-4">
        <legend className="sr-only">Filters</legend>
        <Select id="category" label="Category" value={filters.category} onChange={setFilter("category")}
                options={[["", "All categories"], ...CATEGORIES]} />
        <Select id="level" label="Level" value={filters.level} onChange={setFilter("level")}
                options={[["", "Any level"], ...LEVELS]} />
        <Select id="language" label="Language" value={filters.language} onChange={setFilter("language")}
                options={[["", "Any language"], ...LANGUAGES]} />
        <Select id="price" label="Price" value={filters.price} onChange={setFilter("price")}
                options={[["", "Free and paid"], ["free", "Free"], ["paid", "Paid"]]} />
      </fieldset>

      {query && <p className="mb-2 text-sm text-slate-600" aria-live="polite">Results for “{query}”</p>}
      <ul aria-label="Courses" className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {rows.map((row) => <CourseCard key={row.course.id} course={row.course} highlight={row.highlight} />)}
      </ul>
      {loadedOnce && !loading && !error && rows.length === 0 && (
        <p role="status" className="mt-6 text-center text-slate-600">
          No courses match. Try other words or fewer filters.
        </p>
      )}
      <ErrorBox error={error} onRetry={() => void fetchPage(cursor?.value ?? null)} />
      {loading && <Loading what="Loading courses" />}
      <div ref={sentinel} aria-hidden="true" className="h-4" />
      {cursor && !loading && !error && (
        <div className="mt-4 text-center">
          <button type="button" className="btn-secondary" onClick={() => void fetchPage(cursor.value)}>
            Load more
          </button>
        </div>
      )}
    </div>
  );
}
