/** A search as the user types: asked once they pause, and only the newest answer kept (an older one may arrive later). */
import { useEffect, useRef, useState } from 'preact/hooks';

export function useDebouncedSearch<T>(query: string, search: (q: string) => Promise<T>, onError: (err: unknown) => void, ms = 250): T | null {
  const [result, setResult] = useState<T | null>(null);
  const latest = useRef(0);
  useEffect(() => {
    const q = query.trim();
    const mine = ++latest.current;
    if (!q) return setResult(null);
    const timer = setTimeout(() => {
      search(q).then(
        (r) => mine === latest.current && setResult(r),
        (err) => mine === latest.current && onError(err),
      );
    }, ms);
    return () => clearTimeout(timer);
  }, [query]);
  return result;
}
