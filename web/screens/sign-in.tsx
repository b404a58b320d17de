/** Signed out: sign in by username or email, or create an account (email and its code optional). */
import { useState } from 'preact/hooks';
import { ApiError } from '../../client/index.ts';
import { label, named, t } from '../i18n.ts';
import { useStore } from '../store-context.ts';

export function SignIn() {
  const [mode, setMode] = useState<'sign-in' | 'register'>('sign-in');
  return (
    <main class="auth">
      <h1>🐝 {t('appName')}</h1>
      {mode === 'sign-in' ? <SignInForm onRegister={() => setMode('register')} /> : <RegisterForm onBack={() => setMode('sign-in')} />}
    </main>
  );
}

function useSubmit(): [string | null, boolean, (run: () => Promise<void>) => Promise<void>] {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (run: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return [error, busy, submit];
}

function SignInForm({ onRegister }: { onRegister: () => void }) {
  const store = useStore();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, busy, submit] = useSubmit();
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(() => store.signIn(login.trim(), password));
      }}
    >
      <label>
        {t('usernameOrEmail')}
        <input aria-label={label('usernameOrEmail')} autocomplete="username" required value={login} onInput={(e) => setLogin(e.currentTarget.value)} />
      </label>
      <label>
        {t('password')}
        <input aria-label={label('password')} type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={busy} {...named('signIn')} />
      <button type="button" class="link" onClick={onRegister} {...named('createAccount')} />
    </form>
  );
}

function RegisterForm({ onBack }: { onBack: () => void }) {
  const store = useStore();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [nickname, setNickname] = useState('');
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [codeSent, setCodeSent] = useState(false);
  const [error, busy, submit] = useSubmit();
  const [codeError, codeBusy, submitCode] = useSubmit();
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(() =>
          store.register({
            username: username.trim(),
            password,
            ...(nickname.trim() ? { nickname: nickname.trim() } : {}),
            ...(email.trim() ? { email: email.trim(), code: code.trim() } : {}),
          }),
        );
      }}
    >
      <label>
        {t('username')}
        <input aria-label={label('username')} autocomplete="username" required minLength={3} maxLength={32} pattern="[A-Za-z0-9_.\-]+" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label>
        {t('password')}
        <input aria-label={label('password')} type="password" autocomplete="new-password" required minLength={8} maxLength={128} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      <label>
        {t('nickname')} <small>({t('optional')})</small>
        <input aria-label={label('nickname')} maxLength={64} value={nickname} onInput={(e) => setNickname(e.currentTarget.value)} />
      </label>
      <label>
        {t('email')} <small>({t('optional')})</small>
        <input aria-label={label('email')} type="email" autocomplete="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      {email.trim() && (
        <div class="row">
          <label class="grow">
            {t('code')}
            <input aria-label={label('code')} inputMode="numeric" pattern="\d{6}" maxLength={6} required value={code} onInput={(e) => setCode(e.currentTarget.value)} />
          </label>
          <button
            type="button"
            disabled={codeBusy}
            onClick={() =>
              void submitCode(async () => {
                await store.api.auth.sendCode(email.trim(), 'register');
                setCodeSent(true);
              })
            }
            {...named('sendCode')}
          />
        </div>
      )}
      {codeSent && <p class="hint">{t('codeSent', { email: email.trim() })}</p>}
      {(error ?? codeError) && <p class="error" role="alert">{error ?? codeError}</p>}
      <button type="submit" class="primary" disabled={busy} {...named('register')} />
      <button type="button" class="link" onClick={onBack} {...named('backToSignIn')} />
    </form>
  );
}
