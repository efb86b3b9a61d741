import { createContext, useContext } from 'react';

/** Says something to screen readers through the steps pane's live region ("Copied …"). */
export const AnnounceContext = createContext<(message: string) => void>(() => {});

export const useAnnounce = () => useContext(AnnounceContext);
