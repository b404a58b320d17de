/** The web client's entry: one store, the app, and the service worker (push). */
import { render } from 'preact';
import { App } from './app.tsx';
import { lang } from './i18n.ts';
import { registerServiceWorker } from './push.ts';
import { AppStore } from './state/store.ts';
import { StoreContext } from './store-context.ts';

document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
const store = new AppStore();
render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
  document.getElementById('app')!,
);
void store.resume();
void registerServiceWorker();
