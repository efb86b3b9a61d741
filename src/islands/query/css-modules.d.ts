// Vite bundles CSS that an island imports; the browser tsconfig has no Astro client types.
declare module '*.css';
