# NixOS VM test for nix/module.nix: a server VM runs services.gopherd and a
# client VM fetches from it over the test network.
#
#   nix-build nix/test.nix
#
# Needs Nix with a nixpkgs channel (or -I nixpkgs=...) and KVM, so it does
# not run in this project's CI; "make check-nix" only checks that it parses.
# It builds gopherd from nix/package.nix, whose vendorHash must have been
# filled in first (see the comment there).
{
  pkgs ? import <nixpkgs> { },
}:

let
  helloText = "Hello from gopherd!\n";

  # The served tree lives in the store, which every user can read, as the
  # transient service user must.
  gopherRoot = pkgs.runCommand "gopherd-test-root" { } ''
    mkdir -p $out/docs
    printf '%s' ${pkgs.lib.escapeShellArg helloText} > $out/hello.txt
    printf 'inside docs\n' > $out/docs/inner.txt
    printf 'not for clients\n' > $out/.secret
    {
      printf 'Test gopherhole\n'
      printf '\n'
      printf '0Say hello\thello.txt\n'
      printf '1Documents\tdocs\n'
    } > $out/gophermap
  '';
in
pkgs.testers.runNixOSTest {
  name = "gopherd";

  nodes = {
    server = {
      imports = [ ./module.nix ];
      services.gopherd = {
        enable = true;
        openFirewall = true;
        settings = {
          hostname = "server";
          root = "${gopherRoot}";
        };
      };
    };

    client =
      { pkgs, ... }:
      {
        environment.systemPackages = [ pkgs.curl ];
      };
  };

  testScript = ''
    start_all()

    server.wait_for_unit("gopherd.socket")
    # Type=notify: once the unit is active, gopherd has said READY=1.
    server.wait_for_unit("gopherd.service")
    client.wait_for_unit("multi-user.target")

    with subtest("a file is sent byte for byte"):
        got = client.succeed("curl -sS gopher://server/0/hello.txt")
        assert got == ${builtins.toJSON helloText}, repr(got)

    with subtest("the root menu is the gophermap, naming this server"):
        menu = client.succeed("curl -sS gopher://server/1/")
        assert "iTest gopherhole\t" in menu, menu
        assert "0Say hello\t/hello.txt\tserver\t70\r\n" in menu, menu
        assert "1Documents\t/docs\tserver\t70\r\n" in menu, menu
        assert menu.endswith(".\r\n"), menu

    with subtest("an automatic listing"):
        listing = client.succeed("curl -sS gopher://server/1/docs")
        assert "0inner.txt\t/docs/inner.txt\tserver\t70\r\n" in listing, listing

    with subtest("dotfiles and gophermaps are refused"):
        for sel in ["/.secret", "/gophermap"]:
            got = client.succeed(f"curl -sS gopher://server/0{sel}")
            assert got.startswith("3"), f"{sel}: {got!r}"
            assert "not for clients" not in got and "Say hello" not in got, got

    with subtest("the service runs unprivileged in its sandbox"):
        pid = server.succeed("systemctl show -p MainPID --value gopherd.service").strip()
        uid = server.succeed(f"stat -c %u /proc/{pid}").strip()
        assert uid != "0", f"gopherd runs as uid {uid}"
        server.succeed("systemctl show -p DynamicUser --value gopherd.service | grep -qx yes")

    with subtest("reload keeps serving"):
        server.succeed("systemctl reload gopherd.service")
        server.wait_for_unit("gopherd.service")
        client.succeed("curl -sS gopher://server/0/hello.txt")

    with subtest("the journal holds no client address"):
        ip = client.succeed("ip -4 -o addr show dev eth1 | awk '{print $4}' | cut -d/ -f1").strip()
        assert ip, "client has no address"
        server.succeed("journalctl -u gopherd.service | grep -q redacted")
        server.fail(f"journalctl -u gopherd.service | grep -F {ip}")

    with subtest("a stop is clean"):
        server.succeed("systemctl stop gopherd.service gopherd.socket")
        status = server.succeed("systemctl show -p ExecMainStatus --value gopherd.service").strip()
        assert status == "0", f"exit status {status}"
  '';
}
