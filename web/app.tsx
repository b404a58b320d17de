/** Signed out: the sign-in screen. Signed in: the shell (sidebar + chat). */
import { useStore } from './store-context.ts';
import { Notice } from './components/notice.tsx';
import { Shell } from './screens/shell.tsx';
import { SignIn } from './screens/sign-in.tsx';

export function App() {
  const store = useStore();
  const me = store.me.value;
  return (
    <>
      {me ? <Shell /> : store.signedIn ? <p class="loading">…</p> : <SignIn />}
      <Notice />
    </>
  );
}
