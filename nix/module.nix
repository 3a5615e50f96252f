# NixOS module for gopherd: services.gopherd.
#
#   imports = [ ./path/to/gopherd/nix/module.nix ];
#   services.gopherd = {
#     enable = true;
#     openFirewall = true;
#     settings.hostname = "gopher.example.org";
#     settings.root = "/srv/gopher";
#   };
#
# systemd owns the listening socket (gopherd.socket) and starts the service
# as a transient user (DynamicUser) in a sandbox, so gopherd itself never
# holds a privilege. That is why settings.listen, settings.port and
# settings.user are refused below: under socket activation gopherd would
# ignore the first two, and the sandbox makes the third fail.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.gopherd;
  json = pkgs.formats.json { };

  # listen.port is only what menus fall back to; with an inherited socket
  # gopherd names the socket's own port. Writing it keeps the file
  # truthful for anyone who runs gopherd --check on it.
  configFile = json.generate "gopherd.json" (
    cfg.settings
    // {
      listen.port = cfg.port;
    }
  );
in
{
  options.services.gopherd = {
    enable = lib.mkEnableOption "gopherd, a Gopher (RFC 1436) server";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The gopherd package to run.";
    };

    address = lib.mkOption {
      type = lib.types.str;
      default = "[::]";
      example = "127.0.0.1";
      description = ''
        Address for gopherd.socket to listen on, in the syntax of
        ListenStream= in systemd.socket(5): an IPv6 address in brackets
        or an IPv4 address. The default "[::]" also accepts IPv4
        connections.
      '';
    };

    port = lib.mkOption {
      type = lib.types.port;
      default = 70;
      description = "TCP port for gopherd.socket to listen on.";
    };

    openFirewall = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether to open the port in the firewall.";
    };

    settings = lib.mkOption {
      default = { };
      description = ''
        Contents of gopherd.json; see gopherd.json(5) for every key.
        Keys without an option here (public-port, limits) are written
        as given.
      '';
      example = lib.literalExpression ''
        {
          hostname = "gopher.example.org";
          root = "/srv/gopher";
          limits.max-connections-per-ip = 8;
        }
      '';
      type = lib.types.submodule {
        freeformType = json.type;

        options = {
          hostname = lib.mkOption {
            type = lib.types.str;
            default = "localhost";
            example = "gopher.example.org";
            description = ''
              Host name written into menus. Clients send every follow-up
              request there, so it must be the name the server is reached
              by from outside.
            '';
          };

          root = lib.mkOption {
            type = lib.types.path;
            default = "/srv/gopher";
            description = ''
              Directory to serve. The service runs as a transient user, so
              everything below it must be readable by all users.
            '';
          };

          log = {
            enable = lib.mkOption {
              type = lib.types.bool;
              default = true;
              description = "Whether gopherd logs at all (to the journal).";
            };

            hide-ips = lib.mkOption {
              type = lib.types.bool;
              default = true;
              description = "Keep client addresses out of every log line.";
            };

            # gopherd's own default is false; the journal adds timestamps.
            hide-time = lib.mkOption {
              type = lib.types.bool;
              default = true;
              description = "Leave timestamps out of log lines.";
            };

            level = lib.mkOption {
              type = lib.types.enum [
                "debug"
                "info"
                "warn"
                "error"
              ];
              default = "info";
              description = "Least severe messages logged; the access log is at info.";
            };
          };
        };
      };
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = !(cfg.settings ? listen || cfg.settings ? port);
        message = ''
          services.gopherd.settings.listen and .port have no effect:
          gopherd.socket listens for gopherd. Set services.gopherd.address
          and services.gopherd.port instead.
        '';
      }
      {
        assertion = !(cfg.settings ? user);
        message = ''
          services.gopherd.settings.user cannot work: the service starts as
          a transient unprivileged user and its sandbox forbids switching
          users. To run it as a fixed account, override the service:
          systemd.services.gopherd.serviceConfig = {
            DynamicUser = false; User = "..."; Group = "...";
          };
        '';
      }
    ];

    environment.etc."gopherd.json".source = configFile;

    systemd.sockets.gopherd = {
      description = "gopherd Gopher server socket";
      documentation = [ "man:gopherd(8)" ];
      wantedBy = [ "sockets.target" ];
      listenStreams = [ "${cfg.address}:${toString cfg.port}" ];
      socketConfig = {
        BindIPv6Only = "both";
        Accept = false;
      };
    };

    systemd.services.gopherd = {
      description = "gopherd Gopher server";
      documentation = [
        "man:gopherd(8)"
        "man:gopherd.json(5)"
        "man:gopherd.gophermap(5)"
      ];
      requires = [ "gopherd.socket" ];
      after = [ "gopherd.socket" ];
      wantedBy = [ "multi-user.target" ];
      # The unit reads /etc/gopherd.json, so a settings change alters no
      # unit file: switching reloads gopherd (SIGHUP) instead of
      # restarting it, and transfers in flight go on.
      reloadTriggers = [ configFile ];

      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = "${lib.getExe cfg.package} /etc/gopherd.json";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        WatchdogSec = "30s";
        TimeoutStopSec = "45s";
        Restart = "on-failure";
        # Exit status 2 is a configuration error: restarting cannot help.
        RestartPreventExitStatus = 2;
        RestartSec = "2s";
        # A bug that makes gopherd grow ends in a restart, not in a swapping host.
        MemoryMax = "512M";

        DynamicUser = true;
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        NoNewPrivileges = true;
        RestrictSUIDSGID = true;
        UMask = "0077";

        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        DevicePolicy = "closed";
        PrivateMounts = true;
        ProtectProc = "invisible";
        ProcSubset = "pid";

        # The listening socket comes from gopherd.socket; the service
        # itself needs no network, only AF_UNIX for sd_notify.
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];

        PrivateUsers = true;
        ProtectHostname = true;
        ProtectClock = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RemoveIPC = true;
        KeyringMode = "private";
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
        SystemCallErrorNumber = "EPERM";
      };
    };

    networking.firewall.allowedTCPPorts = lib.mkIf cfg.openFirewall [ cfg.port ];

    environment.systemPackages = [ cfg.package ];
  };
}
