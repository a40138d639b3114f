import { createRoot } from 'react-dom/client';
import { App } from './chat';

createRoot(document.getElementById('root')!).render(<App />);
