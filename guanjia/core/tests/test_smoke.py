def test_cast_builds_and_scopes(cast):
    from guanjia.enterprises.models import Enterprise

    assert set(Enterprise.objects.visible_to(cast.steward_a)) == {cast.ent_a1}
    assert set(Enterprise.objects.visible_to(cast.dispatcher_a)) == {cast.ent_a1, cast.ent_a2}
    assert set(Enterprise.objects.visible_to(cast.leader_city)) == {cast.ent_a1, cast.ent_a2, cast.ent_b1}
    assert set(Enterprise.objects.visible_to(cast.ent_user_a1)) == {cast.ent_a1}
    assert not Enterprise.objects.visible_to(cast.outsider).exists()
    assert not Enterprise.objects.visible_to(cast.sysadmin).exists()
