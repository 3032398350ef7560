import { runStoreContract } from './server-contract.js';

runStoreContract('sqlite', async () => ({ options: {}, cleanup: async () => undefined }));
