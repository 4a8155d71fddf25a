def test_changelist_renders(admin_client, items):
    response = admin_client.get("/admin/testapp/item/")
    assert response.status_code == 200
    assert b'rel="next"' in response.content
