"""Create the first three admin accounts (三员) on a new installation."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from guanjia.core import audit
from guanjia.core.errors import ServiceError
from guanjia.core.models import RoleGrant, User
from guanjia.core.roles import Role
from guanjia.core.services import check_new_password


class Command(BaseCommand):
    help = "Create the system, security and audit admin accounts, each holding only its own role."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sysadmin", default="sysadmin")
        parser.add_argument("--secadmin", default="secadmin")
        parser.add_argument("--auditor", default="auditor")
        parser.add_argument(
            "--password-from-env",
            metavar="VAR_PREFIX",
            help=(
                "read passwords from VAR_PREFIX_SYSADMIN, VAR_PREFIX_SECADMIN, VAR_PREFIX_AUDITOR instead of prompting"
            ),
        )

    def handle(self, *args, **options) -> None:
        import os

        if RoleGrant.objects.filter(role__in=[Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR]).exists():
            raise CommandError("管理员账号已存在；后续账号请由系统管理员创建、安全管理员授予角色")
        plan = [
            (options["sysadmin"], Role.SYSADMIN),
            (options["secadmin"], Role.SECADMIN),
            (options["auditor"], Role.AUDITOR),
        ]
        if len({name for name, _ in plan}) != 3:
            raise CommandError("三员分立：三个管理员账号必须各不相同")
        passwords = {}
        for username, role in plan:
            if options["password_from_env"]:
                password = os.environ.get(f"{options['password_from_env']}_{role.value.upper()}", "")
            else:
                password = getpass.getpass(f"{role.label}（{username}）的密码：")
            try:
                check_new_password(password, username=username)
            except ServiceError as exc:
                raise CommandError(f"{username}：{exc}") from exc
            passwords[username] = password
        with transaction.atomic():
            for username, role in plan:
                if User.objects.filter(username=username).exists():
                    raise CommandError(f"用户名 {username} 已存在")
                # Whoever ran the command knows these passwords: each admin replaces its own at first login.
                user = User.objects.create_user(
                    username=username,
                    password=passwords[username],
                    full_name=str(role.label),
                    must_change_password=True,
                )
                RoleGrant.objects.create(user=user, role=role)
                audit.record(
                    None,
                    "role.grant",
                    user,
                    summary=f"初始化：{username} 为{role.label}",
                    detail={"role": role.value},
                )
        self.stdout.write("已创建：" + "、".join(f"{role.label} {username}" for username, role in plan))
