"""The request serializers lend one thread's fields to its next instance, never another's."""

import threading

from checkouts.api.serializers import CreateCheckoutRequestSerializer

BODY = {
    "CompanyId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "CountryCode": "se",
    "Articles": [{"ArticleId": 7, "ArticleTypeId": 1}],
    "InternalReferenceId": "booking-1",
}


def fields_of_a_new_serializer() -> tuple[CreateCheckoutRequestSerializer, dict]:
    serializer = CreateCheckoutRequestSerializer(data=BODY)
    return serializer, dict(serializer.fields)


def test_the_next_instance_in_a_thread_gets_the_fields_pointed_at_it():
    _, first_fields = fields_of_a_new_serializer()
    second, second_fields = fields_of_a_new_serializer()

    assert second_fields == first_fields
    assert all(field.parent is second for field in second_fields.values())
    assert second.is_valid(), second.errors
    assert second.validated_data["country_code"] == "SE"
    assert second.validated_data["articles"][0].article_id == 7


def test_threads_never_share_fields():
    made = []
    threads = [
        threading.Thread(target=lambda: made.append(fields_of_a_new_serializer()[1]))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
        thread.join()

    one, another = made
    assert not {id(field) for field in one.values()} & {id(field) for field in another.values()}
