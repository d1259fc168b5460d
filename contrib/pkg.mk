# contrib/pkg.mk - install, uninstall, deb, test-package. Included by the Makefile (uses its BUILD,
# VERSION, Q, msg, MAN_PAGES).
#
# The directories, as xdp-tools' lib/defines.mk names them; a package uses PREFIX=/usr.
# SYSCONFDIR is /etc whatever the prefix: synfence's default config file is /etc/synfence/.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/synfence
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR  ?= /etc
INSTALL     ?= install

CONF := $(DESTDIR)$(SYSCONFDIR)/synfence/synfence.conf

.PHONY: install uninstall deb test-package

# Everything goes under $(DESTDIR). The config file is written only when there is none (an edited
# one stays); nothing is enabled or started: a packet filter must not switch itself on.
install: $(BUILD)/synfence $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR)
	$(Q)$(INSTALL) -m 0755 $(BUILD)/synfence $(DESTDIR)$(SBINDIR)/synfence
	$(Q)$(INSTALL) -m 0644 $(BUILD)/synfence.8 $(DESTDIR)$(MANDIR)/man8/synfence.8
	$(Q)$(INSTALL) -m 0644 $(BUILD)/synfence.conf.5 $(DESTDIR)$(MANDIR)/man5/synfence.conf.5
	$(Q)$(INSTALL) -m 0644 contrib/bash-completion/synfence $(DESTDIR)$(BASHCOMPDIR)/synfence
	$(Q)$(INSTALL) -m 0644 contrib/synfence.conf $(DESTDIR)$(DOCDIR)/synfence.conf
	$(Q)sed -e 's|/usr/local/sbin/synfence|$(SBINDIR)/synfence|' \
		-e 's|/etc/synfence/synfence.conf|$(SYSCONFDIR)/synfence/synfence.conf|' \
		contrib/synfence.service > $(BUILD)/synfence.service
	$(Q)$(INSTALL) -m 0644 $(BUILD)/synfence.service $(DESTDIR)$(UNITDIR)/synfence.service
	$(Q)if [ -e $(CONF) ]; then echo "  KEEP     $(CONF) (exists)"; else \
		$(INSTALL) -d $(DESTDIR)$(SYSCONFDIR)/synfence && \
		$(INSTALL) -m 0644 contrib/synfence.conf $(CONF) && echo "  INSTALL  $(CONF)"; fi

# The config file stays (like a package's conffile on remove).
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/synfence $(DESTDIR)$(MANDIR)/man8/synfence.8 \
		$(DESTDIR)$(MANDIR)/man5/synfence.conf.5 $(DESTDIR)$(BASHCOMPDIR)/synfence \
		$(DESTDIR)$(UNITDIR)/synfence.service $(DESTDIR)$(DOCDIR)/synfence.conf
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)if [ -e $(CONF) ]; then echo "  KEEP     $(CONF) (remove it by hand)"; fi

# build/synfence_VERSION_ARCH.deb: dpkg-buildpackage (debhelper, contrib/debian) in a copy of the
# source tree under $(DEB_B) (the files git knows, else all but the build dir): never the
# working tree's build/. A missing build dependency is installed with apt-get build-dep (as root).
# With VERSION=X (not the changelog's), the copy gets a changelog entry for X: a local build.
DEB_B   := $(BUILD)/deb
DEB_SRC := $(DEB_B)/synfence-$(VERSION)
deb:
	$(call msg,DEB,$(BUILD)/synfence_$(VERSION)_$$(dpkg --print-architecture).deb)
	$(Q)command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || \
		{ [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev debhelper >/dev/null; } || \
		{ echo "make deb: needs dpkg-dev and debhelper (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_B) && mkdir -p $(DEB_SRC)
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files -z -co --exclude-standard; \
		else find . -path ./$(BUILD) -prune -o -path ./.git -prune -o -type f -print0; fi | \
		tar --null -T - --ignore-failed-read -cf - | tar -xf - -C $(DEB_SRC)
	$(Q)mv $(DEB_SRC)/contrib/debian $(DEB_SRC)/debian
	$(Q)cd $(DEB_SRC) && if [ "$$(dpkg-parsechangelog -S Version)" != "$(VERSION)" ]; then \
		{ printf 'synfence (%s) unstable; urgency=medium\n\n  * Local build.\n\n -- %s  %s\n\n' \
		  "$(VERSION)" "$$(dpkg-parsechangelog -S Maintainer)" "$$(date -R)"; cat debian/changelog; } > debian/changelog.new && \
		mv debian/changelog.new debian/changelog; fi
	$(Q)cd $(DEB_SRC) && { dpkg-checkbuilddeps 2>/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq ./ >/dev/null; } || \
		{ dpkg-checkbuilddeps; exit 1; }; }
	$(Q)cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "make deb: dpkg-buildpackage failed (log: $(DEB_B)/build.log)" >&2; exit 1; }
	$(Q)cp $(DEB_B)/synfence_$(VERSION)_*.deb $(BUILD)/

# Builds the .deb and checks it: lintian, a fresh Debian 12 root, the unit under systemd.
test-package: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/integration/96-package.sh
