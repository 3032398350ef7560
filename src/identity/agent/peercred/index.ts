export {
  getPeerCred,
  loadAddonAt,
  loadPeercred,
  peercredAddonPath,
  socketFd,
  type PeerCredentials,
  type PeercredAddon,
} from './peercred.js';
