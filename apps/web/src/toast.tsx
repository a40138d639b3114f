import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';

/** A short notice at the bottom of the screen, with at most one action (an "Undo" after a soft delete). */
export interface Toast {
  message: string;
  action?: { label: string; run: () => void };
}

/** How long a toast stays, in ms (long enough to reach its Undo by keyboard). */
const TOAST_MS = 10_000;

const ShowToast = createContext<(toast: Toast) => void>(() => {});

/** Shows a toast; the newest replaces the one on screen. */
export const useToast = () => useContext(ShowToast);

/**
 * The toasts' host. Its region is a polite live region, so a screen reader announces a toast
 * without focus moving to it; keyboard users reach its action with Tab (it sits last in the
 * page) or with Alt+Z, which runs the action of the toast on screen.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toast, setToast] = useState<(Toast & { id: number }) | undefined>();
  const next = useRef(0);
  const show = useCallback((t: Toast) => setToast({ ...t, id: ++next.current }), []);
  useEffect(() => {
    if (!toast) return;
    const timer = setTimeout(() => setToast(undefined), TOAST_MS);
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && event.key.toLowerCase() === 'z' && toast.action) {
        event.preventDefault();
        setToast(undefined);
        toast.action.run();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      clearTimeout(timer);
      window.removeEventListener('keydown', onKey);
    };
  }, [toast]);
  return (
    <ShowToast.Provider value={show}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toast && (
          <div className="toast" key={toast.id}>
            <span>{toast.message}</span>
            {toast.action && (
              <button
                type="button"
                className="link"
                onClick={() => {
                  setToast(undefined);
                  toast.action?.run();
                }}
              >
                {toast.action.label}
              </button>
            )}
            <button type="button" className="link" aria-label="Dismiss" onClick={() => setToast(undefined)}>
              ×
            </button>
          </div>
        )}
      </div>
    </ShowToast.Provider>
  );
}
