export * from './segment.js';
export * from './store-state.js';
export * from './stored-event.js';
