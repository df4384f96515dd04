# dsrlb's packet-ring addon (Node-API through node-addon-api). Built from source by
# src/cli/setup.sh (`npm run build:native`, i.e. node-gyp against the running Node's headers).
# Links libpcap only for pcap_compile(): the capture filter is a pcap-filter expression.
{
  'targets': [
    {
      'target_name': 'dsrlb_ring',
      'sources': ['ring.cc'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions'],
      'cflags_cc': ['-fexceptions', '-O2', '-Wall', '-Wextra'],
      'link_settings': { 'libraries': ['-lpcap'] },
    },
  ],
}
