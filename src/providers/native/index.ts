export { NativeProvider, type NativeOptions } from './provider.js';
