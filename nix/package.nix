# gopherd for Nix:
#
#   nix-build -E 'with import <nixpkgs> { }; callPackage ./nix/package.nix { }'
#
# The version is the one in ../VERSION (nix/version.nix), what a release
# (the commit tagged v<VERSION>) is built as. Nix builds see no .git, so a
# build of any other commit passes the version "make" would give it, for
# the binary, the Debian package and this package to agree:
#
#   nix-build -E "with import <nixpkgs> { }; callPackage ./nix/package.nix { version = \"$(sh tools/version.sh)\"; }"
#
# vendorHash is the hash of the Go module dependencies (go.sum). It cannot
# be computed without Nix fetching them, so it starts as lib.fakeHash: the
# first build fails with "hash mismatch ... got: sha256-...", and that value
# goes here. Update it the same way whenever go.sum changes.
{
  lib,
  buildGoModule,
  installShellFiles,
  version ? import ./version.nix,
}:

buildGoModule {
  pname = "gopherd";
  inherit version;

  # Only what the build reads, so that editing the README or the tests
  # does not rebuild the package.
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../go.mod
      ../go.sum
      ../cmd
      ../internal
      ../man
      ../etc
      ../LICENSE
    ];
  };

  vendorHash = lib.fakeHash;

  subPackages = [ "cmd/gopherd" ];

  env.CGO_ENABLED = 0;
  ldflags = [
    "-s"
    "-w"
    "-X main.version=${version}"
  ];

  nativeBuildInputs = [ installShellFiles ];

  # The units name /usr/bin/gopherd; here the binary lives in the store.
  # NixOS users get their units from nix/module.nix instead; these are for
  # other systems that install the package with Nix.
  postInstall = ''
    installManPage man/gopherd.8 man/gopherd.json.5 man/gopherd.gophermap.5
    for unit in gopherd.socket gopherd.service gopherd-root.service; do
      install -Dm0644 etc/systemd/$unit $out/lib/systemd/system/$unit
      substituteInPlace $out/lib/systemd/system/$unit \
        --replace-fail /usr/bin/gopherd $out/bin/gopherd
    done
    install -Dm0644 etc/gopherd.json $out/share/doc/gopherd/gopherd.json
    install -Dm0644 LICENSE $out/share/doc/gopherd/LICENSE
    install -Dm0644 etc/welcome.gophermap $out/share/gopherd/gophermap
  '';

  meta = {
    description = "Gopher (RFC 1436) server with spacecookie-compatible configuration";
    longDescription = ''
      gopherd serves a directory tree over the Gopher protocol. It reads
      Bucktooth-style gophermaps and spacecookie's JSON configuration,
      and is built to run under systemd socket activation as an
      unprivileged, sandboxed service.
    '';
    license = lib.licenses.mit;
    mainProgram = "gopherd";
    platforms = lib.platforms.linux;
  };
}
