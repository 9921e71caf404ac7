export * from './segment.js';
export * from './stored-event.js';
