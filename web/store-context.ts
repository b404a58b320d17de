/** The store reaches components through context, not a module global: tests and future embeddings can make their own. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AppStore } from './state/store.ts';

export const StoreContext = createContext<AppStore | null>(null);

export function useStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside <StoreContext.Provider>');
  return store;
}
