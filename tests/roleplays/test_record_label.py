from lms.roleplays import record_label


def test_record_keys_read_as_spanish_labels_with_their_accents():
    assert record_label("agenda_servicio_tecnico") == "Agenda servicio técnico"
    assert record_label("direccion_de_facturacion") == "Dirección de facturación"
    assert record_label("id_cliente") == "ID cliente"
    assert record_label("tarifa_2025") == "Tarifa 2025"
    assert record_label("Plan") == "Plan"
